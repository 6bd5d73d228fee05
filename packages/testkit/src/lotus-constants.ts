// The numbers the Lotus stand-in uses, each with where it comes from, so that what a client sees
// (code CIDs, exit codes, gas, fees) looks like mainnet Lotus and builtin-actors.

/** Mainnet network version after the FireHorse upgrade (2026-05-27), which runs actors v18. */
export const NETWORK_VERSION = 28

/**
 * Builtin actor code CIDs of the mainnet actors v18 bundle (lotus build/builtin_actors_gen.go),
 * what `Filecoin.StateActorCodeCIDs` answers and what actor states carry as `Code`.
 */
export const ACTOR_CODE_CIDS: Readonly<Record<string, string>> = {
  account: 'bafk2bzacebt5o43hdveql4tqrnr7bg62by3d336ddsfl3l72xedhlsrbe6nia',
  cron: 'bafk2bzaceakrzoywbqj4wrjyo33azrpozkn2rwb7qidfmsda42zpyqmiohn7o',
  datacap: 'bafk2bzacedc2r4rf2cnofn5zhnxawhkn445hqgiptfsd4746ejnkmga4uz2ze',
  eam: 'bafk2bzacec4bwptvkfvc22s2pqm4zdv77aorypuykq33dwlbmguc5tlpsuexw',
  ethaccount: 'bafk2bzacecb3ebhbvmyaf5lhvdolndxfckuoxugs6hswoapxwacye7hax75ou',
  evm: 'bafk2bzacea57ib7fosqleehx5z6uvockk3xk5wqycmge5m4rfq4ptr7xrkfsi',
  init: 'bafk2bzacedrpq4kw6x7cq72w4g4fw56wj6ml4b3doeay6jyivm4dhkxijbe62',
  multisig: 'bafk2bzacecgyiuanstjcdo43xkax274hmyyfiw7ju44uvcyreayonp7r3fmls',
  paymentchannel: 'bafk2bzacebuw6l22xfht4gv4q5ltk66sy6ibp6ou63wvy6zaiyzievu3cl4v2',
  placeholder: 'bafk2bzacedfvut2myeleyq67fljcrw4kkmn5pb5dpyozovj7jpoez5irnc3ro',
  reward: 'bafk2bzacec53jz3itt55424ebyn2ea3rc62zvyyrnscx3gkv4ulw2hholxiii',
  storagemarket: 'bafk2bzacedddzlqirkt63auacz4eogkswfjhbayc4mlrsvsxix4kbnj22mjmy',
  storageminer: 'bafk2bzacead23tnh3ywx2cwudftngssfjgptsvr3nao7xv6mcfot7gvju4bak',
  storagepower: 'bafk2bzaced6wh6odb572jjegr6vxoukzfblp7vogipaub5rsljbpo5mo35a5i',
  system: 'bafk2bzaceb6wbrd6oqnplfdawnu6n27gwwajtfj4xjq3k54uq77ynniniyzce',
  verifiedregistry: 'bafk2bzacebnep6ruikyegl6jo6jdd7dmrk2vrk4xmywoq2g6ps5tmvutu3zbe'
}

/** Exit codes (go-state-types exitcode, builtin-actors ActorError constructors). */
export const ExitCode = {
  Ok: 0,
  SysErrSenderStateInvalid: 2,
  SysErrInvalidReceiver: 5,
  SysErrInsufficientFunds: 6,
  SysErrOutOfGas: 7,
  ErrIllegalArgument: 16,
  ErrNotFound: 17,
  ErrForbidden: 18,
  ErrIllegalState: 20,
  ErrSerialization: 21,
  ErrUnhandledMessage: 22,
  /** paych ERR_CHANNEL_STATE_UPDATE_AFTER_SETTLED. */
  ErrChannelStateUpdateAfterSettled: 32
} as const

/** How Lotus prints an exit code (go-state-types exitcode String): `ErrIllegalArgument(16)`. */
export function exitCodeName(code: number): string {
  const name = Object.entries(ExitCode).find(([, c]) => c === code)?.[0]
  return name === undefined || name === 'Ok' || code === 32 ? String(code) : `${name}(${code})`
}

/** builtin-actors paych SETTLE_DELAY: EPOCHS_IN_HOUR * 12. */
export const DEFAULT_SETTLE_DELAY_EPOCHS = 1440n

/** The first ID the init actor hands out on a young devnet is 1000 (lotus genesis MinerStart). */
export const FIRST_ACTOR_ID = 1000n

/** Lotus MinimumBaseFee (build/buildconstants): the parent base fee the stand-in keeps. */
export const BASE_FEE = 100n

/** Lotus MinGasPremium, the premium GasEstimateGasPremium answers on an empty mempool. */
export const GAS_PREMIUM = 100_000n

/** GasEstimateFeeCap: base fee * 1.125^20 (20 blocks of maximal increase), then + premium. */
export const FEE_CAP_BASE_MULTIPLE = 11n

/** GasLimitOverestimation: Lotus multiplies the simulated gas by 1.25. */
export const GAS_LIMIT_OVERESTIMATION_PERCENT = 125n

/** Lotus DefaultDefaultMaxFee: 0.07 FIL, used when MessageSendSpec.MaxFee is 0. */
export const DEFAULT_MAX_FEE = 70_000_000_000_000_000n

/** BlockGasLimit: no message may ask for more. */
export const BLOCK_GAS_LIMIT = 10_000_000_000n

/** Messages larger than this are refused by the mpool (messagepool MaxMessageSize, 64 KiB). */
export const MAX_MESSAGE_SIZE = 64 << 10

/** 2 billion FIL: the total supply, above which a Value is invalid. */
export const TOTAL_FILECOIN = 2_000_000_000n * 10n ** 18n

/** builtin-actors paych MAX_SECRET_SIZE and MAX_LANE. */
export const MAX_SECRET_SIZE = 256
export const MAX_LANE = (1n << 63n) - 1n

/** messagepool MaxActorPendingMessages: what one sender may have waiting at once. */
export const MAX_ACTOR_PENDING_MESSAGES = 1000

/** ReplaceByFeePercentageMinimum: a replacement needs 110% of the old premium (+1). */
export const RBF_PERCENT = 110n

/**
 * Gas a message needs: Lotus' pricelist (chain/vm/gas.go, latest) charges every message
 * 38863 + 475000 compute plus (36 + size) * 1300 for storing it; the stand-in adds a fixed cost
 * per actor method in the range mainnet shows, so that GasUsed is plausible and deterministic.
 */
export const ON_CHAIN_MESSAGE_COMPUTE = 38_863n + 475_000n
export const ON_CHAIN_MESSAGE_STORAGE_BASE = 36n
export const STORAGE_GAS_MULTI = 1300n

export const METHOD_GAS = {
  send: 0n,
  initExec: 2_200_000n,
  updateChannelState: 1_600_000n,
  settle: 700_000n,
  collect: 1_100_000n
} as const

/** Bytes a JSON-RPC request may have (Lotus' own limit is larger; nothing the node sends is near this). */
export const MAX_REQUEST_BYTES = 1 << 20
