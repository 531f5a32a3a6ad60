/* Logging sink for libpml.
 *
 * The library never prints and never exits: it reports through a sink that the command
 * sets (like kmod_set_log_fn). With no sink set, messages are dropped. */
#ifndef PML_UTIL_LOG_H
#define PML_UTIL_LOG_H

#include <stdarg.h>

enum pml_log_level {
	PML_LOG_ERR = 3,
	PML_LOG_WARNING = 4,
	PML_LOG_INFO = 6,
	PML_LOG_DEBUG = 7,
};

typedef void (*pml_log_fn)(void *data, enum pml_log_level level, const char *fmt,
			   va_list args);

/* Set the process-wide sink; fn NULL drops messages. Not thread-safe against logging. */
void pml_set_log_fn(pml_log_fn fn, void *data);
void pml_set_log_level(enum pml_log_level level);

__attribute__((format(printf, 2, 3))) void pml_log(enum pml_log_level level,
						   const char *fmt, ...);

#define pml_err(...) pml_log(PML_LOG_ERR, __VA_ARGS__)
#define pml_warn(...) pml_log(PML_LOG_WARNING, __VA_ARGS__)
#define pml_info(...) pml_log(PML_LOG_INFO, __VA_ARGS__)
#define pml_dbg(...) pml_log(PML_LOG_DEBUG, __VA_ARGS__)

/* A ready-made sink for commands: "PROG: message" on stderr. data is the program name. */
void pml_log_stderr(void *data, enum pml_log_level level, const char *fmt, va_list args);

#endif
