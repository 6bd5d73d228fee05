// graphsync-responder: a Filecoin retrieval provider built from the Go reference implementations
// (go-libp2p, go-graphsync, go-data-transfer v2 with its graphsync transport), serving free
// retrieval deals over Graphsync from the CAR files it is given, for autoretrieve's interop tests
// and benchmark. It prints one JSON line {"peerId", "multiaddrs"} when it listens and serves until
// SIGTERM or SIGINT.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	datatransfer "github.com/filecoin-project/go-data-transfer/v2"
	dtimpl "github.com/filecoin-project/go-data-transfer/v2/impl"
	dtnet "github.com/filecoin-project/go-data-transfer/v2/network"
	gstransport "github.com/filecoin-project/go-data-transfer/v2/transport/graphsync"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	gsimpl "github.com/ipfs/go-graphsync/impl"
	gsnet "github.com/ipfs/go-graphsync/network"
	_ "github.com/ipld/go-codec-dagpb"
	_ "github.com/ipld/go-ipld-prime/codec/dagcbor"
	_ "github.com/ipld/go-ipld-prime/codec/raw"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// verbose logs each deal decision and channel event on stderr.
var verbose bool

// perBlock are the channel events fired for every block, left out of the verbose log.
var perBlock = map[datatransfer.EventCode]bool{
	datatransfer.DataQueued:         true,
	datatransfer.DataQueuedProgress: true,
	datatransfer.DataSent:           true,
	datatransfer.DataSentProgress:   true,
}

type carList []string

func (c *carList) String() string     { return strings.Join(*c, ",") }
func (c *carList) Set(v string) error { *c = append(*c, v); return nil }

func main() {
	var cars carList
	flag.Var(&cars, "car", "a CARv1 file whose blocks are served (repeatable)")
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (0: any free port)")
	rejectReason := flag.String("reject", "", "reject every deal with this message")
	flag.BoolVar(&verbose, "verbose", false, "log each deal decision on stderr")
	flag.Parse()
	if err := run(cars, *port, *rejectReason); err != nil {
		fmt.Fprintf(os.Stderr, "graphsync-responder: %v\n", err)
		os.Exit(1)
	}
}

func run(cars []string, port int, rejectReason string) error {
	store := newBlockStore()
	for _, path := range cars {
		if _, err := loadCar(path, store); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	h, err := newHost(port)
	if err != nil {
		return err
	}
	defer h.Close()
	dt, err := newRetrievalProvider(ctx, h, store, rejectReason)
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = dt.Stop(stopCtx)
	}()

	if err := announce(h); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// newHost listens on loopback TCP only, with go-libp2p's default security (Noise, TLS) and
// muxer (yamux) as a provider runs them.
func newHost(port int) (host.Host, error) {
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		return nil, err
	}
	return libp2p.New(
		libp2p.Identity(key),
		libp2p.ListenAddrStrings(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.DisableRelay(),
	)
}

// newRetrievalProvider wires graphsync to the block store and go-data-transfer on top of it, with
// the deal validator registered for RetrievalDealProposal/1, and finalizes each accepted deal once
// its data is sent.
func newRetrievalProvider(ctx context.Context, h host.Host, store *blockStore, rejectReason string) (datatransfer.Manager, error) {
	gs := gsimpl.New(ctx, gsnet.NewFromLibp2pHost(h), store.linkSystem())
	transport := gstransport.NewTransport(h.ID(), gs)
	ds := dssync.MutexWrap(datastore.NewMapDatastore())
	dt, err := dtimpl.NewDataTransfer(ds, dtnet.NewFromLibp2pHost(h), transport)
	if err != nil {
		return nil, err
	}
	validator := &dealValidator{store: store, rejectReason: rejectReason}
	if err := dt.RegisterVoucherType(dealProposalType, validator); err != nil {
		return nil, err
	}
	dt.SubscribeToEvents(func(event datatransfer.Event, channel datatransfer.ChannelState) {
		if verbose && !perBlock[event.Code] {
			fmt.Fprintf(os.Stderr, "channel %d: %s (%s) %s\n", channel.TransferID(),
				datatransfer.Events[event.Code], datatransfer.Statuses[channel.Status()], event.Message)
		}
		if event.Code == datatransfer.BeginFinalizing {
			// Not inline: the subscriber runs inside the channel state machine.
			go finalize(dt, channel)
		}
	})
	ready := make(chan error, 1)
	dt.OnReady(func(err error) { ready <- err })
	if err := dt.Start(ctx); err != nil {
		return nil, err
	}
	select {
	case err := <-ready:
		if err != nil {
			return nil, err
		}
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("data transfer did not start in 30 s")
	}
	return dt, nil
}

func announce(h host.Host) error {
	addrs := make([]string, 0, len(h.Addrs()))
	for _, a := range h.Addrs() {
		addrs = append(addrs, fmt.Sprintf("%s/p2p/%s", a, h.ID()))
	}
	line, err := json.Marshal(map[string]any{"peerId": h.ID().String(), "multiaddrs": addrs})
	if err != nil {
		return err
	}
	_, err = fmt.Println(string(line))
	return err
}
