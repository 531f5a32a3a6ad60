/* The verbs of `pml`, one cmd_<verb>() per file cmd-<verb>.c (git's cmd_struct). Each takes
 * the arguments after the verb, parses them with getopt_long, prints its own --help and
 * returns the process exit status. argv[0] is the prefix of the verb's messages ("pml:
 * status"), which getopt_long's own complaints then carry; a verb with sub-verbs points its
 * sub-verb's argv[0] at "pml: trace dump". Every error reads "pml: VERB[ SUB]: ...". */
#ifndef PML_CMD_COMMANDS_H
#define PML_CMD_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_repo(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_train_needs(int argc, char **argv);
int cmd_train_slots(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_dataset(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);

/* Exit statuses shared by the verbs. */
enum {
	PML_EXIT_OK = 0,
	PML_EXIT_FAIL = 1,  /* the operation failed */
	PML_EXIT_USAGE = 2, /* bad command line or input */
};

#endif
