/* A naming read in the job's script waits for its command (issue 18, loading just in time).
 *
 * The naming rules (name-rules.h) and the slot model (model/slots.h) read the job's script
 * before it runs: `ip link add x type veth` on its 12th line names veth at the start,
 * seconds before the command runs, and the module sits loaded meanwhile. So a naming of the
 * script is held until the job executes the program of its command or of one of the two
 * commands before it, whichever comes first; then it is acted on as before. Two commands of
 * lead, not none: the named command itself often asks the kernel as it starts (`tc qdisc add
 * ... clsact`), and the one before may be a function of a sourced library (`pml_sleep`)
 * that never runs as a program. Not held:
 * - a naming of the script's first command (no command before it: the job's own start);
 * - one whose command, or the command before it, calls a function the script defines
 *   (`a() { ip -n $A "$@"; }` ... `a link add er0 type erspan`) or a shell builtin (`set
 *   -e`): no program of that name ever runs;
 * - one whose program, or one of those before, has already run;
 * - any once PML_NAME_WAIT_MAX are held, or PML_NAME_WAIT_RAN programs have run.
 * A held naming whose programs never run is never acted on: such a naming was wrong.
 * Released namings are acted on in the script's order.
 *
 * Measured on the validation split (doc/sim.md, "A script's naming waits for its command"):
 * fewer stalls and 4-9% less footprint under names, lstm, lstm+idle-unload, learned and
 * learned+idle-unload. */
#ifndef PML_POLICY_NAME_WAIT_H
#define PML_POLICY_NAME_WAIT_H

#include <stdbool.h>

#include "model/features.h"

#define PML_NAME_WAIT_MAX 64   /* namings held at once */
#define PML_NAME_WAIT_RAN 256  /* distinct programs remembered as run */
#define PML_NAME_WAIT_FUNCS 64 /* functions of the script known */

struct pml_name_wait_item {
	char module[64];
	char words[40];
	float conf;
	char prog[64], before[64], before2[64]; /* any one's exec releases it ("": none) */
};

/* Embedded in its user's state; no release needed. */
struct pml_name_wait {
	char funcs[PML_NAME_WAIT_FUNCS][64];
	int n_funcs;
	char ran[PML_NAME_WAIT_RAN][64];
	int n_ran;
	struct pml_name_wait_item held[PML_NAME_WAIT_MAX];
	int n_held;
};

/* Told a naming released by its program's exec (module and words valid during the call). */
typedef void (*pml_name_wait_fn)(void *ctx, const char *module, const char *words, float conf);

/* A new job: nothing held, nothing run; the functions script (may be NULL) defines. */
void pml_name_wait_reset(struct pml_name_wait *w, const char *script);

/* A naming of the script (module, the words that named it, its confidence) on a command of
 * program prog, after commands of programs before and, before that, before2 ("" when
 * none): true when it is held (the caller does nothing now), false when the caller acts on
 * it now. */
bool pml_name_wait_hold(struct pml_name_wait *w, const char *module, const char *words,
			float conf, const char *prog, const char *before, const char *before2);

/* One trace record's tokens (pml_feat_encoder_last): an exec ("exec:PROG") releases, through
 * fn, the namings held for PROG. */
void pml_name_wait_record(struct pml_name_wait *w, const struct pml_feat_tokens *t,
			  pml_name_wait_fn fn, void *ctx);

#endif
