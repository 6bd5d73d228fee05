// Regenerates ../lotustypes/cbor_gen.go with cbor-gen's tuple encoders (as lotus generates
// chain/types): cd packages/testkit/go/chain-vectors && go run ./gen
package main

import (
	"log"

	"github.com/autoretrieve/testkit/chain-vectors/lotustypes"
	cbg "github.com/whyrusleeping/cbor-gen"
)

func main() {
	if err := cbg.WriteTupleEncodersToFile("lotustypes/cbor_gen.go", "lotustypes",
		lotustypes.Message{},
		lotustypes.SignedMessage{},
	); err != nil {
		log.Fatal(err)
	}
}
