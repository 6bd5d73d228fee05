// Command wallet-fixture writes a wallet directory the way the Go autoretrieve did: Lotus'
// LocalWallet (chain/wallet) over filclient's DiskKeyStore (keystore/keystore.go). Neither can be
// imported here (both pull in lotus, which needs filecoin-ffi, a native build this machine does
// not have), so this program does what they do with the same libraries they use:
//
//   - file name: github.com/whyrusleeping/base32 RawStdEncoding of the key name (DiskKeyStore.Put)
//   - content: encoding/json of a struct with lotus types.KeyInfo's fields (Type, PrivateKey []byte)
//   - mode 0600, directory 0700 (DiskKeyStore)
//   - key names "wallet-" + address.String() and "default" (LocalWallet.WalletNew: the first key
//     becomes the default; WalletImport does not set one)
//   - address: go-address NewSecp256k1Address of go-crypto's public key, mainnet prefix (the Go
//     autoretrieve ran a mainnet lotus build, which sets address.CurrentNetwork to Mainnet).
//
// Usage: go run . <out-dir>. It writes <out-dir>/wallet/ and <out-dir>/manifest.json.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/filecoin-project/go-address"
	"github.com/filecoin-project/go-crypto"
	"github.com/whyrusleeping/base32"
)

// keyInfo has lotus chain/types.KeyInfo's fields and JSON names.
type keyInfo struct {
	Type       string
	PrivateKey []byte
}

func put(dir, name string, ki keyInfo) {
	path := filepath.Join(dir, base32.RawStdEncoding.EncodeToString([]byte(name)))
	if _, err := os.Stat(path); err == nil {
		panic("key exists: " + name)
	}
	data, err := json.Marshal(ki)
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(path, data, 0600); err != nil {
		panic(err)
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: wallet-fixture <out-dir>")
		os.Exit(2)
	}
	address.CurrentNetwork = address.Mainnet
	out := os.Args[1]
	dir := filepath.Join(out, "wallet")
	if err := os.MkdirAll(dir, 0700); err != nil {
		panic(err)
	}
	type entry struct {
		Name       string `json:"name"`
		File       string `json:"file"`
		Address    string `json:"address"`
		PrivateKey string `json:"privateKeyHex"`
		Default    bool   `json:"default"`
	}
	var manifest []entry
	// Two fixed test keys: the first made by WalletNew (so also "default"), the second imported.
	for i, seed := range []byte{0x11, 0x22} {
		sk := make([]byte, 32)
		for j := range sk {
			sk[j] = seed
		}
		addr, err := address.NewSecp256k1Address(crypto.PublicKey(sk))
		if err != nil {
			panic(err)
		}
		ki := keyInfo{Type: "secp256k1", PrivateKey: sk}
		name := "wallet-" + addr.String()
		put(dir, name, ki)
		manifest = append(manifest, entry{name, base32.RawStdEncoding.EncodeToString([]byte(name)), addr.String(), fmt.Sprintf("%x", sk), i == 0})
		if i == 0 {
			put(dir, "default", ki)
			manifest = append(manifest, entry{"default", base32.RawStdEncoding.EncodeToString([]byte("default")), addr.String(), fmt.Sprintf("%x", sk), true})
		}
	}
	data, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(filepath.Join(out, "manifest.json"), append(data, '\n'), 0644); err != nil {
		panic(err)
	}
}
