/* `pml repo`: the module catalog from the command line (list, show, resolve, import-costs).
 * Placeholder while src/repo/ is being written: parses its arguments only. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"

int cmd_repo(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: pml repo [--moddir DIR] [--catalog FILE] "
		       "(list | show MODULE | resolve ALIAS | import-costs FILE)\n");
		return PML_EXIT_OK;
	}
	fprintf(stderr, "pml: repo: catalog not built yet\n");
	return PML_EXIT_FAIL;
}
