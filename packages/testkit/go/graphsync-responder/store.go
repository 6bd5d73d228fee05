package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/datamodel"
	"github.com/ipld/go-ipld-prime/linking"
	cidlink "github.com/ipld/go-ipld-prime/linking/cid"
)

// errNotFound is a block this store does not hold; graphsync answers it as Missing ("m").
var errNotFound = errors.New("not found")

// blockStore holds the blocks of the CARs in memory, keyed by multihash (as a Boost piece would
// answer for any CID version or codec of the same bytes).
type blockStore struct {
	mu     sync.RWMutex
	blocks map[string][]byte
}

func newBlockStore() *blockStore {
	return &blockStore{blocks: make(map[string][]byte)}
}

// putVerified stores a block after checking its bytes hash to its CID: a bad CAR fails loudly
// at start rather than as a puzzling verification error on the client.
func (s *blockStore) putVerified(c cid.Cid, data []byte) error {
	sum, err := c.Prefix().Sum(data)
	if err != nil {
		return err
	}
	if !sum.Equals(c) {
		return fmt.Errorf("bytes of %s hash to %s", c, sum)
	}
	s.mu.Lock()
	s.blocks[string(c.Hash())] = data
	s.mu.Unlock()
	return nil
}

func (s *blockStore) has(c cid.Cid) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.blocks[string(c.Hash())]
	return ok
}

// linkSystem reads blocks for graphsync's traversals; nothing is ever written.
func (s *blockStore) linkSystem() linking.LinkSystem {
	lsys := cidlink.DefaultLinkSystem()
	lsys.TrustedStorage = true // verified by putVerified
	lsys.StorageReadOpener = func(_ linking.LinkContext, l datamodel.Link) (io.Reader, error) {
		cl, ok := l.(cidlink.Link)
		if !ok {
			return nil, fmt.Errorf("unsupported link %s", l)
		}
		s.mu.RLock()
		data, ok := s.blocks[string(cl.Cid.Hash())]
		s.mu.RUnlock()
		if !ok {
			return nil, fmt.Errorf("block %s: %w", cl.Cid, errNotFound)
		}
		return bytes.NewReader(data), nil
	}
	return lsys
}
