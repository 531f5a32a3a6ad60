/* The table of util/option-table.h. Ranges are what the code behind each number handles;
 * where two commands take one setting they share the entry. */
#include "util/option-table.h"

#define S PML_NUM_SIZE
#define D PML_NUM_DURATION
#define P PML_NUM_PROB
#define I PML_NUM_INT
#define R PML_NUM_REAL
#define OPEN PML_NUM_OPEN_LO
#define WHOLE PML_NUM_WHOLE

const struct pml_num_spec pml_numopts[PML_NUMOPT_COUNT] = {
	[PML_NUMOPT_IDLE_SECONDS] = {"idle-seconds", D, 0, 86400, OPEN, "s", "pmld, run, eval"},
	[PML_NUMOPT_THRESHOLD] = {"threshold", P, 0, 1, OPEN, NULL,
				  "pmld, run, eval, train, model files"},
	[PML_NUMOPT_HORIZON] = {"horizon", D, 1, 3600e3, 0, "ms", "pmld, run, eval"},
	[PML_NUMOPT_BUDGET_CPU] = {"budget-cpu", R, 0, 1000, OPEN, "ms per s", "pmld, run"},
	[PML_NUMOPT_BUDGET_MEM] = {"budget-mem", S, 0, 1099511627776.0, 0, NULL,
				   "pmld, run, eval, policy file"},
	[PML_NUMOPT_TICK_MS] = {"tick-ms", D, 10, 60000, WHOLE, "ms", "pmld, eval"},
	[PML_NUMOPT_TRACE_ROOT] = {"trace-root", I, 1, 4194304, 0, NULL, "pmld"},
	[PML_NUMOPT_SETTLE] = {"settle", D, 0, 3600, 0, "s", "run"},
	[PML_NUMOPT_TIMEOUT] = {"timeout", D, 1, 86400, WHOLE, "s", "run"},
	[PML_NUMOPT_MEMORY] = {"memory", S, 256.0 * 1048576, 65536.0 * 1048576, 0, "MiB",
			       "run, collect"},
	[PML_NUMOPT_CPUS] = {"cpus", I, 1, 16, 0, NULL, "run"},
	[PML_NUMOPT_PREROLL_MS] = {"preroll-ms", D, 0, 3600e3, 0, "ms", "eval"},
	[PML_NUMOPT_MISS_MS] = {"miss-ms", D, 0, 3600e3, 0, "ms", "eval"},
	[PML_NUMOPT_RUNS] = {"runs", I, 1, 100000, 0, NULL, "collect"},
	[PML_NUMOPT_JOBS] = {"jobs", I, 1, 8, 0, NULL, "collect"},
	[PML_NUMOPT_PER_BOOT] = {"per-boot", I, 1, 200, 0, NULL, "collect"},
	[PML_NUMOPT_COLLECT_SEED] = {"seed", I, 1, 2147483647, 0, NULL, "collect"},
	[PML_NUMOPT_CONFIDENCE] = {"confidence", P, 0, 1, 0, NULL, "request"},
	[PML_NUMOPT_URGENCY] = {"urgency", D, 0, 86400e3, 0, "ms", "request"},
	[PML_NUMOPT_BYTES] = {"bytes", S, 0, 1e12, 0, NULL, "request"},
	[PML_NUMOPT_LOAD_MS] = {"load-ms", D, 0, 86400e3, 0, "ms", "request"},
	[PML_NUMOPT_RINGBUF] = {"ringbuf", S, 1048576, 1073741824, 0, "MiB", "trace record"},
	[PML_NUMOPT_SAMPLE_HZ] = {"sample-hz", I, 1, 100000, 0, NULL, "trace record"},
	[PML_NUMOPT_FAULT_MS] = {"fault-ms", D, 1, 100000, WHOLE, "ms", "trace record"},
	[PML_NUMOPT_ROUNDS] = {"rounds", I, 1, 50, 0, NULL, "bench"},
	[PML_NUMOPT_NEEDS_WINDOW] = {"window", D, 0, 86400, OPEN, "s",
				     "train-needs, needs model files"},
	[PML_NUMOPT_NEEDS_ALPHA] = {"alpha", R, 0, 1e6, 0, NULL,
				    "train-needs, needs model files"},
	[PML_NUMOPT_LR] = {"lr", R, 1e-9, 1, 0, NULL, "train"},
	[PML_NUMOPT_POS_WEIGHT] = {"pos-weight", R, 1e-9, 1000, 0, NULL, "train"},
	[PML_NUMOPT_WEIGHT_DECAY] = {"weight-decay", R, 0, 1, 0, NULL, "train"},
	[PML_NUMOPT_TOKEN_DROPOUT] = {"token-dropout", P, 0, 1, 0, NULL, "train"},
	[PML_NUMOPT_PRIOR_DROPOUT] = {"prior-dropout", P, 0, 1, 0, NULL, "train"},
	[PML_NUMOPT_HIDDEN] = {"hidden", I, 1, 1e7, 0, NULL, "train"},
	[PML_NUMOPT_EMBED] = {"embed", I, 1, 1e7, 0, NULL, "train"},
	[PML_NUMOPT_LAYERS] = {"layers", I, 1, 2, 0, NULL, "train"},
	[PML_NUMOPT_EPOCHS] = {"epochs", I, 1, 1e7, 0, NULL, "train"},
	[PML_NUMOPT_PATIENCE] = {"patience", I, 1, 1e7, 0, NULL, "train"},
	[PML_NUMOPT_BATCH] = {"batch", I, 1, 1e7, 0, NULL, "train"},
	[PML_NUMOPT_WINDOW] = {"window", I, 1, 1e7, 0, NULL, "train"},
	[PML_NUMOPT_THREADS] = {"threads", I, 1, 64, 0, NULL, "train"},
	[PML_NUMOPT_TRAIN_SEED] = {"seed", I, 0, 4e9, 0, NULL, "train"},
	[PML_NUMOPT_HORIZON_MS] = {"horizon-ms", D, 1, 3600e3, WHOLE, "ms",
				   "train, model files"},
	[PML_NUMOPT_MIN_DOCS] = {"min-docs", I, 1, 1e7, 0, NULL, "train"},
	[PML_NUMOPT_ORDER] = {"order", I, 1, 3, 0, NULL, "train"},
	[PML_NUMOPT_BUCKETS] = {"buckets", I, 1, 4194304, 0, NULL, "train"},
	[PML_NUMOPT_FILE_IDLE_UNLOAD] = {"idle-unload", D, 0, 86400, OPEN | PML_NUM_UNIT_NEEDED,
					 "s", "policy file"},
};
