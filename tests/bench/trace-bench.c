/* The tracer benchmark's workload driver, run in the guest by tests/bench/trace-bench.sh:
 *   trace-bench getpid N       N getpid system calls; prints ns per call
 *   trace-bench openclose N    N open("/dev/null")+close pairs; prints ns per pair
 *   trace-bench time CMD ...   runs CMD, prints its wall time in ms
 *   trace-bench cpu CMD ...    runs CMD, prints the CPU time (user + system) of it and its
 *                              descendants in ms: on a loaded machine a steadier measure of
 *                              what tracing adds (BPF programs run on the traced tasks'
 *                              time) than wall time
 * Run it under the tracer (pml trace record -- trace-bench ...) or strace so that only
 * the workload is timed, not the tracer's start-up. Only libc: it runs in the guest as
 * built on the host (both Debian 12). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	double t0, t1;
	long n;

	if (argc < 3) {
		fprintf(stderr, "usage: trace-bench getpid|openclose N | time|cpu CMD...\n");
		return 2;
	}
	if (!strcmp(argv[1], "time") || !strcmp(argv[1], "cpu")) {
		struct rusage ru;
		int status;
		pid_t pid;

		t0 = now_ns();
		pid = fork();
		if (pid == 0) {
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		waitpid(pid, &status, 0);
		t1 = now_ns();
		getrusage(RUSAGE_CHILDREN, &ru);
		if (argv[1][0] == 'c')
			printf("%.3f\n", (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
					     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
		else
			printf("%.3f\n", (t1 - t0) / 1e6);
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	n = atol(argv[2]);
	if (n <= 0)
		return 2;
	if (!strcmp(argv[1], "getpid")) {
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			syscall(SYS_getpid);
		t1 = now_ns();
	} else if (!strcmp(argv[1], "openclose")) {
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			close(open("/dev/null", O_RDONLY));
		t1 = now_ns();
	} else {
		return 2;
	}
	printf("%.1f\n", (t1 - t0) / n);
	return 0;
}
