// Command gen writes the Go autoretrieve's block cache fixture: a go-ds-flatfs store sharded
// /repo/flatfs/shard/v1/next-to-last/3, keyed as go-ipfs-ds-help keys a multihash (base32
// upper case, unpadded, no /blocks prefix), exactly as the Go node kept it at
// <data-dir>/blockstore. It also writes one corrupt entry (a key whose bytes do not hash to it)
// and blocks.json, the CIDs and contents the TypeScript test expects to be served.
//
//	go run . ../blockstore
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ipfs/go-cid"
	flatfs "github.com/ipfs/go-ds-flatfs"
	dshelp "github.com/ipfs/go-ipfs-ds-help"
	mh "github.com/multiformats/go-multihash"
)

type entry struct {
	CID     string `json:"cid"`
	Key     string `json:"key"`
	Size    int    `json:"size"`
	Corrupt bool   `json:"corrupt,omitempty"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen <dir>")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.RemoveAll(dir); err != nil {
		panic(err)
	}
	ds, err := flatfs.CreateOrOpen(dir, flatfs.NextToLast(3), false)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	var entries []entry
	put := func(codec uint64, hash uint64, data []byte) {
		sum, err := mh.Sum(data, hash, -1)
		if err != nil {
			panic(err)
		}
		key := dshelp.MultihashToDsKey(sum)
		if err := ds.Put(ctx, key, data); err != nil {
			panic(err)
		}
		entries = append(entries, entry{CID: cid.NewCidV1(codec, sum).String(), Key: key.String(), Size: len(data)})
	}
	// Deterministic contents of a few sizes, two hash functions, raw and dag-pb-coded blocks
	// (flatfs keeps only the multihash: the codec is the reader's business).
	for i := 0; i < 6; i++ {
		data := make([]byte, 100+i*3000)
		for j := range data {
			data[j] = byte((i*31 + j*7) % 251)
		}
		hash := uint64(mh.SHA2_256)
		if i == 5 {
			hash = mh.SHA2_512
		}
		put(cid.Raw, hash, data)
	}
	// A corrupt entry: stored under the key of one content with the bytes of another.
	good := []byte("the bytes this key names")
	sum, _ := mh.Sum(good, mh.SHA2_256, -1)
	key := dshelp.MultihashToDsKey(sum)
	if err := ds.Put(ctx, key, []byte("other bytes entirely")); err != nil {
		panic(err)
	}
	entries = append(entries, entry{CID: cid.NewCidV1(cid.Raw, sum).String(), Key: key.String(), Size: 20, Corrupt: true})
	if err := ds.Close(); err != nil {
		panic(err)
	}
	out, _ := json.MarshalIndent(entries, "", "  ")
	if err := os.WriteFile(filepath.Join(filepath.Dir(filepath.Clean(dir)), "blocks.json"), append(out, '\n'), 0o644); err != nil {
		panic(err)
	}
}
