/* Hooks of the repo for its unit tests only; nothing else should include this. */
#ifndef PML_REPO_REPO_INTERNAL_H
#define PML_REPO_REPO_INTERNAL_H

/* Make the next catalog builds fail with -EIO after indexing n modules (-1: never), to
 * check that a failed build leaves the previous catalog intact and no temporary file. */
void pml_repo__test_fail_build_after(int n_modules);

#endif
