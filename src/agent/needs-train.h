/* Training the markov policy's needs model (policy/needs-model.h) from decision logs: the
 * host side of the loop, next to the report that reads the same logs. A log's `need`
 * records (results loaded or present: a module was used) in time order are one run; its
 * load records with a size or a time give the model's cost hints. */
#ifndef PML_AGENT_NEEDS_TRAIN_H
#define PML_AGENT_NEEDS_TRAIN_H

#include "policy/needs-model.h"

/* Count the log at path (a decision log, or a `pml run --report` directory holding
 * events.jsonl) into m. Returns the number of needs counted, or -errno (-ENOENT: no log;
 * -EBADMSG: not one well-formed record, e.g. a log of another version, said through the
 * log sink; -ENOMEM). */
int pml_needs_train_log(struct pml_needs_model *m, const char *path);

#endif
