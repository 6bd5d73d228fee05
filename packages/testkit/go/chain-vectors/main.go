// chain-vectors writes test-vectors/filecoin-chain/*.json from the Go libraries Lotus uses
// (go-address, go-state-types, go-crypto and secp256k1-voi beneath it, cbor-gen), so that
// @autoretrieve/chain is checked byte for byte against them. It is not a test peer: it has no
// target.json, and packages/testkit/go/build.mjs ignores it.
//
// Regenerate (from the repository root; needs Go and the Go module proxy):
//
//	cd packages/testkit/go/chain-vectors && GOFLAGS=-mod=mod go run . -out ../../../../test-vectors/filecoin-chain
//
// Everything is deterministic: fixed keys and data, and RFC 6979 nonces for the signatures the
// TypeScript code must reproduce. go-crypto's own Sign (what Lotus' wallet calls) mixes fresh
// entropy into its nonces, so its signatures are recorded as "hedged_signature" for the
// verification side only and change on every run.
package main

import (
	"bytes"
	gocrypto "crypto"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	gobig "math/big"
	"os"
	"path/filepath"

	"github.com/autoretrieve/testkit/chain-vectors/lotustypes"
	"github.com/filecoin-project/go-address"
	fcrypto "github.com/filecoin-project/go-crypto"
	"github.com/filecoin-project/go-state-types/abi"
	"github.com/filecoin-project/go-state-types/big"
	"github.com/filecoin-project/go-state-types/builtin"
	initactor "github.com/filecoin-project/go-state-types/builtin/v16/init"
	"github.com/filecoin-project/go-state-types/builtin/v16/paych"
	"github.com/filecoin-project/go-state-types/crypto"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
	"gitlab.com/yawning/secp256k1-voi/secec"
	"golang.org/x/crypto/blake2b"
)

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func h(b []byte) string { return hex.EncodeToString(b) }

func unhex(s string) []byte { return must(hex.DecodeString(s)) }

func cborOf(v interface{ MarshalCBOR(w io.Writer) error }) []byte {
	var buf bytes.Buffer
	check(v.MarshalCBOR(&buf))
	return buf.Bytes()
}

// The fixed private keys (test-only, never a real wallet's). The first two are the ones in
// packages/chain/test/helpers.ts.
var keys = [][]byte{
	unhex("8f2f1b9a4a9b7a6e5d4c3b2a1908f7e6d5c4b3a29180706f5e4d3c2b1a090807"),
	unhex("1111111111111111111111111111111111111111111111111111111111111111"),
	unhex("0000000000000000000000000000000000000000000000000000000000000001"),
	unhex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140"),
}

// signRFC6979 signs as Lotus' secp signer does (blake2b-256 digest, r||s||v) with an RFC 6979
// nonce, and checks the result with go-crypto's recovery.
func signRFC6979(sk, data []byte) []byte {
	digest := blake2b.Sum256(data)
	k := must(secec.NewPrivateKey(sk))
	sig := must(k.Sign(secec.RFC6979SHA256(), digest[:], &secec.ECDSAOptions{
		Encoding: secec.EncodingCompactRecoverable, Hash: gocrypto.SHA256, SelfVerify: true,
	}))
	if !fcrypto.Verify(fcrypto.PublicKey(sk), digest[:], sig) {
		log.Fatal("go-crypto does not verify the RFC 6979 signature")
	}
	return sig
}

// highS is the other valid signature for the same (r, digest): s' = n - s with the recovery
// parity flipped. Lotus signs low-s, but its verifier (go-crypto EcRecover) accepts both.
func highS(sk, digest, sig []byte) []byte {
	n, _ := new(gobig.Int).SetString("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 16)
	s := new(gobig.Int).Sub(n, new(gobig.Int).SetBytes(sig[32:64]))
	out := append([]byte{}, sig[:32]...)
	out = append(out, s.FillBytes(make([]byte, 32))...)
	out = append(out, sig[64]^1)
	if !fcrypto.Verify(fcrypto.PublicKey(sk), digest, out) {
		log.Fatal("go-crypto does not verify the high-s signature")
	}
	return out
}

// signHedged is exactly Lotus' lib/sigs/secp Sign.
func signHedged(sk, data []byte) []byte {
	digest := blake2b.Sum256(data)
	return must(fcrypto.Sign(sk, digest[:]))
}

func secpAddress(sk []byte) address.Address {
	return must(address.NewSecp256k1Address(fcrypto.PublicKey(sk)))
}

func testnet(a address.Address) string {
	address.CurrentNetwork = address.Testnet
	defer func() { address.CurrentNetwork = address.Mainnet }()
	return a.String()
}

func write(dir, name string, v any) {
	data := must(json.MarshalIndent(v, "", "  "))
	check(os.WriteFile(filepath.Join(dir, name), append(data, '\n'), 0o644))
}

// ---- addresses ----

type addressVector struct {
	String   string `json:"string"`
	Testnet  string `json:"testnet"`
	Bytes    string `json:"bytes"`
	Protocol int    `json:"protocol"`
}

type rejected struct {
	Input string `json:"input"`
	Error string `json:"error"`
}

func addresses() any {
	var valid []address.Address
	for _, id := range []uint64{0, 1, 99, 1234, 1 << 32, math.MaxInt64} {
		valid = append(valid, must(address.NewIDAddress(id)))
	}
	for _, k := range keys {
		valid = append(valid, secpAddress(k))
	}
	for _, d := range []string{"", "actor", "paych for autoretrieve"} {
		valid = append(valid, must(address.NewActorAddress([]byte(d))))
	}
	bls := make([]byte, 48)
	for i := range bls {
		bls[i] = byte(i * 7)
	}
	valid = append(valid, must(address.NewBLSAddress(bls)))
	sub20 := make([]byte, 20)
	for i := range sub20 {
		sub20[i] = byte(0xa0 + i)
	}
	sub54 := bytes.Repeat([]byte{0x5a}, 54)
	valid = append(valid,
		must(address.NewDelegatedAddress(10, sub20)),
		must(address.NewDelegatedAddress(32, nil)),
		must(address.NewDelegatedAddress(12345, sub54)),
	)
	out := []addressVector{}
	for _, a := range valid {
		out = append(out, addressVector{a.String(), testnet(a), h(a.Bytes()), int(a.Protocol())})
	}

	secp := secpAddress(keys[0]).String()
	actor := valid[len(valid)-7].String()
	flip := func(s string) string {
		last := s[len(s)-1]
		if last == 'a' {
			return s[:len(s)-1] + "b"
		}
		return s[:len(s)-1] + "a"
	}
	candidates := []string{
		flip(secp), flip(actor), "x" + secp[1:], "f9" + secp[2:], "F" + secp[1:], "f1" + bytesUpper(secp[2:]),
		"f0", "f0-1", "f0+1", "f01a", "f09223372036854775808", "f018446744073709551615", "f012345678901234567890",
		"f1", "f1aaaa", "f2" + secp[2:], "f3" + secp[2:], "f410", "f410f", "f4a0f" + secp[2:],
		secp[:len(secp)-1], secp + "a",
	}
	var badStrings []rejected
	for _, s := range candidates {
		if _, err := address.NewFromString(s); err != nil {
			badStrings = append(badStrings, rejected{s, err.Error()})
		} else {
			log.Fatalf("go-address accepted %q", s)
		}
	}
	// Forms Go accepts that are not how it writes the address.
	type accepted struct {
		Input  string `json:"input"`
		String string `json:"string"`
		Bytes  string `json:"bytes"`
	}
	var lenient []accepted
	for _, s := range []string{"f0001", "t00"} {
		a := must(address.NewFromString(s))
		lenient = append(lenient, accepted{s, a.String(), h(a.Bytes())})
	}
	var badBytes []rejected
	for _, b := range []string{"0080", "000100", "00ffffffffffffffff80", "0180", "01" + h(make([]byte, 21)),
		"02" + h(make([]byte, 19)), "03" + h(make([]byte, 47)), "05" + h(make([]byte, 20)), "04" + "80",
		"040a" + h(make([]byte, 55))} {
		if _, err := address.NewFromBytes(unhex(b)); err != nil {
			badBytes = append(badBytes, rejected{b, err.Error()})
		} else {
			log.Fatalf("go-address accepted bytes %s", b)
		}
	}
	return map[string]any{
		"comment":          "go-address " + goAddressVersion + ": valid addresses (mainnet string, testnet string, bytes), strings and bytes it rejects (with its error), and non-canonical strings it accepts",
		"valid":            out,
		"accepted_strings": lenient,
		"invalid_strings":  badStrings,
		"invalid_bytes":    badBytes,
	}
}

func bytesUpper(s string) string { return string(bytes.ToUpper([]byte(s))) }

// ---- keys ----

type keyVector struct {
	PrivateKey     string `json:"private_key"`
	PublicKey      string `json:"public_key"`
	Address        string `json:"address"`
	TestnetAddress string `json:"testnet_address"`
	KeyInfoJSON    string `json:"key_info_json"`
	KeyInfoHex     string `json:"key_info_hex"`
}

type signatureVector struct {
	PrivateKey      string `json:"private_key"`
	Address         string `json:"address"`
	Data            string `json:"data"`
	Digest          string `json:"digest"`
	Signature       string `json:"signature"`
	SignatureBytes  string `json:"signature_bytes"`
	HedgedSignature string `json:"hedged_signature"`
	HighSSignature  string `json:"high_s_signature"`
}

func keyVectors() any {
	var ks []keyVector
	var sigs []signatureVector
	datas := [][]byte{nil, []byte("pay me"), bytes.Repeat([]byte{0xab}, 1000)}
	for _, k := range keys {
		a := secpAddress(k)
		ki := must(json.Marshal(lotustypes.KeyInfo{Type: "secp256k1", PrivateKey: k}))
		ks = append(ks, keyVector{h(k), h(fcrypto.PublicKey(k)), a.String(), testnet(a), string(ki), hex.EncodeToString(ki)})
		for _, d := range datas {
			digest := blake2b.Sum256(d)
			sig := signRFC6979(k, d)
			fs := crypto.Signature{Type: crypto.SigTypeSecp256k1, Data: sig}
			sb := must(fs.MarshalBinary())
			sigs = append(sigs, signatureVector{h(k), a.String(), h(d), h(digest[:]), h(sig), h(sb), h(signHedged(k, d)), h(highS(k, digest[:], sig))})
		}
	}
	return map[string]any{
		"comment":    "go-crypto/secp256k1-voi: public keys, f1 addresses, lotus KeyInfo JSON and `lotus wallet export` hex; signatures over blake2b-256(data) as r||s||v with RFC 6979 nonces (reproducible), signature_bytes = [type]++data, and a hedged_signature from go-crypto Sign (lotus' signer; random nonce, verify only), and high_s_signature (n - s, parity flipped) that go-crypto also verifies",
		"keys":       ks,
		"signatures": sigs,
	}
}

// ---- messages ----

type messageVector struct {
	Name            string          `json:"name"`
	Message         json.RawMessage `json:"message"`
	CBOR            string          `json:"cbor"`
	CID             string          `json:"cid"`
	PrivateKey      string          `json:"private_key"`
	Signature       string          `json:"signature"`
	SignedCBOR      string          `json:"signed_cbor"`
	SignedCID       string          `json:"signed_cid"`
	SignedLotusJSON json.RawMessage `json:"signed_lotus_json"`
}

func messages(paychCode cid.Cid) any {
	from := secpAddress(keys[0])
	to := secpAddress(keys[1])
	ctor := cborOf(&paych.ConstructorParams{From: from, To: must(address.NewIDAddress(1001))})
	exec := cborOf(&initactor.ExecParams{CodeCID: paychCode, ConstructorParams: ctor})
	ch := must(address.NewActorAddress([]byte("channel")))
	sv := voucherSamples(ch)[1]
	sv.Signature = &crypto.Signature{Type: crypto.SigTypeSecp256k1, Data: signRFC6979(keys[0], must(sv.SigningBytes()))}
	update := cborOf(&paych.UpdateChannelStateParams{Sv: *sv, Secret: nil})
	atto := func(s string) abi.TokenAmount { return must(big.FromString(s)) }
	type sample struct {
		name string
		key  []byte
		msg  lotustypes.Message
	}
	samples := []sample{
		{"send", keys[0], lotustypes.Message{To: to, From: from, Nonce: 0, Value: atto("1000000000000000000"),
			GasLimit: 1_000_000, GasFeeCap: atto("100000"), GasPremium: atto("99000"), Method: builtin.MethodSend}},
		{"init exec paych", keys[0], lotustypes.Message{To: builtin.InitActorAddr, From: from, Nonce: 1,
			Value: atto("20000000000000000"), GasLimit: 10_000_000, GasFeeCap: atto("1234567890"), GasPremium: atto("1000"),
			Method: builtin.MethodsInit.Exec, Params: exec}},
		{"paych update channel state", keys[1], lotustypes.Message{To: ch, From: must(address.NewIDAddress(1001)), Nonce: 42,
			Value: big.Zero(), GasLimit: 5_000_000, GasFeeCap: atto("100"), GasPremium: atto("100"),
			Method: builtin.MethodsPaych.UpdateChannelState, Params: update}},
		{"paych settle, large numbers", keys[2], lotustypes.Message{To: ch, From: secpAddress(keys[2]), Nonce: 1 << 40,
			Value: atto("123456789012345678901234567890"), GasLimit: math.MaxInt32, GasFeeCap: atto("18446744073709551616"),
			GasPremium: atto("1"), Method: builtin.MethodsPaych.Settle}},
		{"zero gas limit, collect", keys[3], lotustypes.Message{To: ch, From: secpAddress(keys[3]), Nonce: 3,
			Value: big.Zero(), GasLimit: 0, GasFeeCap: big.Zero(), GasPremium: big.Zero(), Method: builtin.MethodsPaych.Collect}},
	}
	var out []messageVector
	for _, s := range samples {
		m := s.msg
		c := must(m.Cid())
		sig := signRFC6979(s.key, c.Bytes())
		sm := lotustypes.SignedMessage{Message: m, Signature: crypto.Signature{Type: crypto.SigTypeSecp256k1, Data: sig}}
		sc := must(sm.Cid())
		out = append(out, messageVector{
			Name: s.name, Message: must(json.Marshal(&m)), CBOR: h(must(m.Serialize())), CID: c.String(),
			PrivateKey: h(s.key), Signature: h(sig), SignedCBOR: h(must(sm.Serialize())), SignedCID: sc.String(),
			SignedLotusJSON: must(json.Marshal(&sm)),
		})
	}
	return map[string]any{
		"comment":  "lotus chain/types Message/SignedMessage (mirrored with cbor-gen, see lotustypes): message is lotus' JSON (with its CID), cbor/cid of the message, signature = RFC 6979 secp256k1 over the message CID bytes (what lotus' wallet signs), signed_cbor/signed_cid of the SignedMessage, signed_lotus_json",
		"messages": out,
	}
}

// ---- payment channels ----

func voucherSamples(ch address.Address) []*paych.SignedVoucher {
	return []*paych.SignedVoucher{
		{ChannelAddr: ch, Lane: 0, Nonce: 1, Amount: big.NewInt(1000)},
		{ChannelAddr: ch, Lane: 3, Nonce: 7, Amount: must(big.FromString("10000000000000000"))},
		{ChannelAddr: ch, TimeLockMin: -1, TimeLockMax: 1 << 33, SecretHash: []byte("0123456789abcdef0123456789abcdef"),
			Extra: &paych.ModVerifyParams{Actor: must(address.NewIDAddress(77)), Method: 9, Data: []byte{1, 2, 3}},
			Lane:  math.MaxUint64, Nonce: 1 << 62, Amount: big.Zero(), MinSettleHeight: 123456,
			Merges: []paych.Merge{{Lane: 1, Nonce: 2}, {Lane: 5, Nonce: 0}}},
	}
}

type voucherVector struct {
	Voucher      map[string]any  `json:"voucher"`
	SigningBytes string          `json:"signing_bytes"`
	PrivateKey   string          `json:"private_key"`
	Signer       string          `json:"signer"`
	Signature    string          `json:"signature"`
	SignedCBOR   string          `json:"signed_cbor"`
	Hedged       string          `json:"hedged_signed_cbor"`
	UpdateSecret string          `json:"update_secret"`
	UpdateParams string          `json:"update_channel_state_params"`
	LotusJSON    json.RawMessage `json:"signed_lotus_json"`
}

func voucherJSON(sv *paych.SignedVoucher) map[string]any {
	var extra any
	if sv.Extra != nil {
		extra = map[string]any{"actor": sv.Extra.Actor.String(), "method": fmt.Sprint(uint64(sv.Extra.Method)), "data": h(sv.Extra.Data)}
	}
	merges := []map[string]string{}
	for _, m := range sv.Merges {
		merges = append(merges, map[string]string{"lane": fmt.Sprint(m.Lane), "nonce": fmt.Sprint(m.Nonce)})
	}
	return map[string]any{
		"channel_addr": sv.ChannelAddr.String(), "time_lock_min": fmt.Sprint(int64(sv.TimeLockMin)),
		"time_lock_max": fmt.Sprint(int64(sv.TimeLockMax)), "secret_hash": h(sv.SecretHash), "extra": extra,
		"lane": fmt.Sprint(sv.Lane), "nonce": fmt.Sprint(sv.Nonce), "amount": sv.Amount.String(),
		"min_settle_height": fmt.Sprint(int64(sv.MinSettleHeight)), "merges": merges,
	}
}

func paychVectors(paychCode cid.Cid) any {
	type pair struct {
		From string `json:"from"`
		To   string `json:"to"`
		CBOR string `json:"cbor"`
	}
	var ctors []pair
	for _, p := range [][2]address.Address{
		{secpAddress(keys[0]), secpAddress(keys[1])},
		{secpAddress(keys[2]), must(address.NewIDAddress(1001))},
		{must(address.NewIDAddress(5)), must(address.NewActorAddress([]byte("x")))},
	} {
		ctors = append(ctors, pair{p[0].String(), p[1].String(), h(cborOf(&paych.ConstructorParams{From: p[0], To: p[1]}))})
	}
	type execVector struct {
		CodeCID           string `json:"code_cid"`
		ConstructorParams string `json:"constructor_params"`
		CBOR              string `json:"cbor"`
	}
	var execs []execVector
	for _, c := range ctors {
		cp := unhex(c.CBOR)
		execs = append(execs, execVector{paychCode.String(), c.CBOR, h(cborOf(&initactor.ExecParams{CodeCID: paychCode, ConstructorParams: cp}))})
	}
	type retVector struct {
		IDAddress     string `json:"id_address"`
		RobustAddress string `json:"robust_address"`
		CBOR          string `json:"cbor"`
	}
	var rets []retVector
	for i, id := range []uint64{1002, 123456789} {
		r := initactor.ExecReturn{IDAddress: must(address.NewIDAddress(id)), RobustAddress: must(address.NewActorAddress([]byte{byte(i), 1, 2}))}
		rets = append(rets, retVector{r.IDAddress.String(), r.RobustAddress.String(), h(cborOf(&r))})
	}
	ch := must(address.NewActorAddress([]byte("channel")))
	var vouchers []voucherVector
	for i, sv := range voucherSamples(ch) {
		k := keys[i%2]
		sb := must(sv.SigningBytes())
		sig := signRFC6979(k, sb)
		signed := *sv
		signed.Signature = &crypto.Signature{Type: crypto.SigTypeSecp256k1, Data: sig}
		hedged := *sv
		hedged.Signature = &crypto.Signature{Type: crypto.SigTypeSecp256k1, Data: signHedged(k, sb)}
		secret := []byte{}
		if i == 2 {
			secret = []byte("the secret")
		}
		vouchers = append(vouchers, voucherVector{
			Voucher: voucherJSON(sv), SigningBytes: h(sb), PrivateKey: h(k), Signer: secpAddress(k).String(),
			Signature: h(sig), SignedCBOR: h(cborOf(&signed)), Hedged: h(cborOf(&hedged)), UpdateSecret: h(secret),
			UpdateParams: h(cborOf(&paych.UpdateChannelStateParams{Sv: signed, Secret: secret})),
			LotusJSON:    must(json.Marshal(&signed)),
		})
	}
	return map[string]any{
		"comment":            "go-state-types builtin/v16 paych and init: ConstructorParams, ExecParams (paych code CID is a stand-in CIDv1 raw blake2b-256), ExecReturn, SignedVoucher (amounts/ints as decimal strings, bytes hex; signing_bytes = SigningBytes(); signature RFC 6979 over it; hedged_signed_cbor signed by go-crypto Sign; signed_lotus_json = its encoding/json form, as Lotus' API passes it), UpdateChannelStateParams",
		"constructor_params": ctors,
		"init_exec_params":   execs,
		"exec_return":        rets,
		"vouchers":           vouchers,
	}
}

const goAddressVersion = "v1.2.0"

func main() {
	out := flag.String("out", "../../../../test-vectors/filecoin-chain", "directory for the JSON vectors")
	flag.Parse()
	check(os.MkdirAll(*out, 0o755))
	paychCode := must(cid.NewPrefixV1(cid.Raw, mh.BLAKE2B_MIN+31).Sum([]byte("fil/16/paymentchannel")))
	write(*out, "addresses.json", addresses())
	write(*out, "keys.json", keyVectors())
	write(*out, "messages.json", messages(paychCode))
	write(*out, "paych.json", paychVectors(paychCode))
}
