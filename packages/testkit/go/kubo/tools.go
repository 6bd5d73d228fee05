//go:build tools

// Package kubo pins the kubo version the interop tests run against: build.mjs builds
// github.com/ipfs/kubo/cmd/ipfs from this module, so go.mod/go.sum decide every dependency.
package kubo

import _ "github.com/ipfs/kubo/cmd/ipfs"
