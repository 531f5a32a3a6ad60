/* The log sink behind pml_log(); see log.h. */
#include <stdio.h>

#include "util/log.h"

static pml_log_fn log_fn;
static void *log_data;
static enum pml_log_level log_level = PML_LOG_INFO;

void pml_set_log_fn(pml_log_fn fn, void *data)
{
	log_fn = fn;
	log_data = data;
}

void pml_set_log_level(enum pml_log_level level)
{
	log_level = level;
}

void pml_log(enum pml_log_level level, const char *fmt, ...)
{
	va_list args;

	if (!log_fn || level > log_level)
		return;
	va_start(args, fmt);
	log_fn(log_data, level, fmt, args);
	va_end(args);
}

void pml_log_stderr(void *data, enum pml_log_level level, const char *fmt, va_list args)
{
	const char *prog = data ? data : "pml";

	fprintf(stderr, "%s: %s", prog, level <= PML_LOG_ERR ? "" :
			level == PML_LOG_WARNING ? "warning: " : "");
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
}
