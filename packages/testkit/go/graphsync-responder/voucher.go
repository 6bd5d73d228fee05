package main

import (
	"fmt"
	"math/big"

	datatransfer "github.com/filecoin-project/go-data-transfer/v2"
	"github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/datamodel"
	"github.com/ipld/go-ipld-prime/fluent/qp"
	cidlink "github.com/ipld/go-ipld-prime/linking/cid"
	"github.com/ipld/go-ipld-prime/node/basicnode"
)

// The retrieval voucher types of go-retrieval-types (types.ipldsch), as Boost and lotus-markets
// register them. They are read and written here by hand from the data model rather than through
// go-fil-markets, whose pinned go-graphsync and go-data-transfer are older than ours.
const (
	dealProposalType datatransfer.TypeIdentifier = "RetrievalDealProposal/1"
	dealResponseType datatransfer.TypeIdentifier = "RetrievalDealResponse/1"
)

// DealStatus values a provider sends (go-fil-markets retrievalmarket/dealstatus.go).
type dealStatus int64

const (
	statusAccepted     dealStatus = 6
	statusRejected     dealStatus = 9
	statusCompleted    dealStatus = 15
	statusDealNotFound dealStatus = 16
)

// dealProposal is RetrievalDealProposal/1: {PayloadCID, ID, Params}.
type dealProposal struct {
	payloadCID cid.Cid
	id         uint64
	// selector is nil when the client sent null (the provider then assumes ExploreAllRecursively).
	selector                datamodel.Node
	pieceCID                *cid.Cid
	pricePerByte            *big.Int
	unsealPrice             *big.Int
	paymentInterval         uint64
	paymentIntervalIncrease uint64
}

func (p *dealProposal) free() bool {
	return p.pricePerByte.Sign() == 0 && p.unsealPrice.Sign() == 0
}

func field(n datamodel.Node, key string) (datamodel.Node, error) {
	v, err := n.LookupByString(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return v, nil
}

func uintField(n datamodel.Node, key string) (uint64, error) {
	v, err := field(n, key)
	if err != nil {
		return 0, err
	}
	i, err := v.AsInt()
	if err != nil || i < 0 {
		return 0, fmt.Errorf("%s: not an unsigned integer", key)
	}
	return uint64(i), nil
}

func linkField(n datamodel.Node, key string) (cid.Cid, error) {
	v, err := field(n, key)
	if err != nil {
		return cid.Undef, err
	}
	l, err := v.AsLink()
	if err != nil {
		return cid.Undef, fmt.Errorf("%s: %w", key, err)
	}
	cl, ok := l.(cidlink.Link)
	if !ok {
		return cid.Undef, fmt.Errorf("%s: not a CID", key)
	}
	return cl.Cid, nil
}

// tokenField reads a Filecoin big-int (go-state-types big.Int bytes): empty is zero, else a sign
// byte (0 positive, 1 negative) and the big-endian magnitude.
func tokenField(n datamodel.Node, key string) (*big.Int, error) {
	v, err := field(n, key)
	if err != nil {
		return nil, err
	}
	b, err := v.AsBytes()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	out := new(big.Int)
	if len(b) == 0 {
		return out, nil
	}
	out.SetBytes(b[1:])
	switch b[0] {
	case 0:
		return out, nil
	case 1:
		return out.Neg(out), nil
	default:
		return nil, fmt.Errorf("%s: sign byte %d", key, b[0])
	}
}

func decodeDealProposal(n datamodel.Node) (*dealProposal, error) {
	if n == nil || n.Kind() != datamodel.Kind_Map {
		return nil, fmt.Errorf("deal proposal: not a map")
	}
	var p dealProposal
	var err error
	if p.payloadCID, err = linkField(n, "PayloadCID"); err != nil {
		return nil, err
	}
	if p.id, err = uintField(n, "ID"); err != nil {
		return nil, err
	}
	params, err := field(n, "Params")
	if err != nil {
		return nil, err
	}
	sel, err := field(params, "Selector")
	if err != nil {
		return nil, err
	}
	if !sel.IsNull() {
		p.selector = sel
	}
	piece, err := field(params, "PieceCID")
	if err != nil {
		return nil, err
	}
	if !piece.IsNull() {
		c, err := linkField(params, "PieceCID")
		if err != nil {
			return nil, err
		}
		p.pieceCID = &c
	}
	if p.pricePerByte, err = tokenField(params, "PricePerByte"); err != nil {
		return nil, err
	}
	if p.unsealPrice, err = tokenField(params, "UnsealPrice"); err != nil {
		return nil, err
	}
	if p.paymentInterval, err = uintField(params, "PaymentInterval"); err != nil {
		return nil, err
	}
	if p.paymentIntervalIncrease, err = uintField(params, "PaymentIntervalIncrease"); err != nil {
		return nil, err
	}
	return &p, nil
}

// dealResponse is RetrievalDealResponse/1: {Status, ID, PaymentOwed, Message}. Nothing is ever
// owed on a free deal, so PaymentOwed is the zero big-int (empty bytes).
func dealResponse(id uint64, status dealStatus, message string) *datatransfer.TypedVoucher {
	node, err := qp.BuildMap(basicnode.Prototype.Map, 4, func(ma datamodel.MapAssembler) {
		qp.MapEntry(ma, "Status", qp.Int(int64(status)))
		qp.MapEntry(ma, "ID", qp.Int(int64(id)))
		qp.MapEntry(ma, "PaymentOwed", qp.Bytes(nil))
		qp.MapEntry(ma, "Message", qp.String(message))
	})
	if err != nil {
		panic(err) // a fixed shape of plain values cannot fail to build
	}
	return &datatransfer.TypedVoucher{Voucher: node, Type: dealResponseType}
}
