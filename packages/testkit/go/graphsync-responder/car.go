package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/ipfs/go-cid"
)

// maxSection bounds one CAR section (CID + block): graphsync cannot carry a block past 4 MiB.
const maxSection = 8 << 20

// loadCar adds every block of a CARv1 file to the store and says how many it read. CARv1 is a
// varint-prefixed DAG-CBOR header followed by varint-prefixed (CID, bytes) sections; the roots in
// the header do not matter here (any block may be asked for), so the header is skipped unread.
func loadCar(path string, store *blockStore) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	header, err := readSection(r)
	if err != nil {
		return 0, fmt.Errorf("%s: header: %w", path, err)
	}
	if len(header) == 0 {
		return 0, fmt.Errorf("%s: empty header", path)
	}
	blocks := 0
	for {
		section, err := readSection(r)
		if err == io.EOF {
			return blocks, nil
		}
		if err != nil {
			return blocks, fmt.Errorf("%s: block %d: %w", path, blocks, err)
		}
		n, c, err := cid.CidFromBytes(section)
		if err != nil {
			return blocks, fmt.Errorf("%s: block %d: %w", path, blocks, err)
		}
		if err := store.putVerified(c, section[n:]); err != nil {
			return blocks, fmt.Errorf("%s: block %d: %w", path, blocks, err)
		}
		blocks++
	}
}

func readSection(r *bufio.Reader) ([]byte, error) {
	size, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err // io.EOF only at a section boundary
	}
	if size > maxSection {
		return nil, fmt.Errorf("section of %d bytes", size)
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	return buf, nil
}
