/**
 * @autoretrieve/wallet: the node's Filecoin keys in `<data-dir>/wallet`, in the Go autoretrieve's
 * format (filclient's DiskKeyStore under Lotus' LocalWallet), so a Go node's wallet directory
 * carries over as it is: one file per key named by the unpadded RFC 4648 base32 (upper case) of
 * the key name, `wallet-<f1 address>` for each key and `default` for a copy of the default key's,
 * each holding Lotus KeyInfo JSON. Directory 0700, files 0600. Keys never leave it but through
 * `export`, and no message or log line carries one.
 */
export { KeyNotFoundError, WalletError } from './errors.ts'
export { keyFileName, openWallet, WALLET_DIR, type Wallet, type WalletKey } from './keystore.ts'
