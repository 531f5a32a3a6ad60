/* Compiled on the host by tests/guest/run and copied into the guest with the job. */
#include <stdio.h>

int main(void)
{
	puts("hello from a host-compiled program");
	return 0;
}
