package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	datatransfer "github.com/filecoin-project/go-data-transfer/v2"
	"github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime"
	"github.com/ipld/go-ipld-prime/datamodel"
	selectorparse "github.com/ipld/go-ipld-prime/traversal/selector/parse"
	"github.com/libp2p/go-libp2p/core/peer"
)

// dealValidator decides on retrieval deals the way a Boost provider does for free retrievals
// (boost retrievalmarket/server/validation.go): the proposal must name the request's root and
// selector, the payload must be held, and nothing may be charged. Accepted deals finish with a
// Completed deal response once graphsync has sent everything (see finalize).
type dealValidator struct {
	store *blockStore
	// rejectReason, when set, refuses every deal with these words (the rejection interop test).
	rejectReason string
}

var _ datatransfer.RequestValidator = (*dealValidator)(nil)

func (v *dealValidator) ValidatePush(datatransfer.ChannelID, peer.ID, datamodel.Node, cid.Cid, datamodel.Node) (datatransfer.ValidationResult, error) {
	return datatransfer.ValidationResult{}, errors.New("no pushes accepted")
}

func (v *dealValidator) ValidatePull(_ datatransfer.ChannelID, receiver peer.ID, voucher datamodel.Node, root cid.Cid, selector datamodel.Node) (datatransfer.ValidationResult, error) {
	proposal, err := decodeDealProposal(voucher)
	if err != nil {
		return datatransfer.ValidationResult{}, err
	}
	result := v.decide(proposal, root, selector)
	logDecision(receiver, proposal, result)
	return result, nil
}

// ValidateRestart takes a restarted channel as a new one: a free deal has no state to resume.
func (v *dealValidator) ValidateRestart(_ datatransfer.ChannelID, channel datatransfer.ChannelState) (datatransfer.ValidationResult, error) {
	proposal, err := decodeDealProposal(channel.Voucher().Voucher)
	if err != nil {
		return datatransfer.ValidationResult{}, err
	}
	return v.decide(proposal, channel.BaseCID(), channel.Selector()), nil
}

func (v *dealValidator) decide(p *dealProposal, root cid.Cid, selector datamodel.Node) datatransfer.ValidationResult {
	if v.rejectReason != "" {
		return reject(p, statusRejected, v.rejectReason)
	}
	if !p.payloadCID.Equals(root) {
		return reject(p, statusRejected, "incorrect CID for this proposal")
	}
	wanted := p.selector
	if wanted == nil {
		wanted = selectorparse.CommonSelector_ExploreAllRecursively
	}
	if !ipld.DeepEqual(wanted, selector) {
		return reject(p, statusRejected, "incorrect selector for this proposal")
	}
	if !v.store.has(root) {
		return reject(p, statusRejected, fmt.Sprintf("there is no unsealed piece containing payload cid %s", root))
	}
	if !p.free() {
		return v.decidePaid(p)
	}
	return datatransfer.ValidationResult{
		Accepted:      true,
		VoucherResult: dealResponse(p.id, statusAccepted, ""),
		// Leaves the channel open once the data is sent, so that finalize can close it with a
		// Completed deal response, as lotus-markets did; Boost sends the same status on its own.
		RequiresFinalization: true,
	}
}

// decidePaid is where a paid deal would be priced (an ask, a data limit per payment interval,
// ForcePause until the unseal price is paid). This responder has no ask: it refuses, as Boost
// does for any proposal that is not free.
func (v *dealValidator) decidePaid(p *dealProposal) datatransfer.ValidationResult {
	return reject(p, statusRejected, "this provider serves free retrievals only")
}

func reject(p *dealProposal, status dealStatus, message string) datatransfer.ValidationResult {
	return datatransfer.ValidationResult{Accepted: false, VoucherResult: dealResponse(p.id, status, message)}
}

// finalize answers a channel that has sent all its data and waits in Finalizing: the deal is
// complete, nothing is owed. go-data-transfer sends it as a Complete message carrying the deal
// response (Status 15) on /fil/datatransfer/1.2.0.
func finalize(dt datatransfer.Manager, channel datatransfer.ChannelState) {
	proposal, err := decodeDealProposal(channel.Voucher().Voucher)
	if err != nil {
		fmt.Fprintf(os.Stderr, "finalize %s: %v\n", channel.ChannelID(), err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	result := datatransfer.ValidationResult{Accepted: true, VoucherResult: dealResponse(proposal.id, statusCompleted, "")}
	if err := dt.UpdateValidationStatus(ctx, channel.ChannelID(), result); err != nil {
		fmt.Fprintf(os.Stderr, "finalize %s: %v\n", channel.ChannelID(), err)
	}
}

func logDecision(receiver peer.ID, p *dealProposal, result datatransfer.ValidationResult) {
	if !verbose {
		return
	}
	outcome := "accepted"
	if !result.Accepted {
		outcome = "rejected"
	}
	fmt.Fprintf(os.Stderr, "deal %d from %s for %s: %s\n", p.id, receiver, p.payloadCID, outcome)
}
