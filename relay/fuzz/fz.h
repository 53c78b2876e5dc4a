/*
 * fz.h
 *		What the fuzz targets (fuzz_*.c) share: the libFuzzer entry points,
 *		a scripted stand-in for http_do() (linked in with
 *		-Wl,--wrap=http_do), a virtual clock for code that sleeps, and the
 *		checks every target applies to what the relay would emit.
 *
 * Each target is built twice: with clang and -fsanitize=fuzzer (libFuzzer
 * supplies main) and with gcc and fz_driver.c (a main that replays corpus
 * files), both under AddressSanitizer and UndefinedBehaviorSanitizer.  A
 * failed check calls fz_fail(), which aborts: to either build, a finding.
 */
#ifndef FZ_H
#define FZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Report a broken invariant and abort (the input is the reproducer). */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A NUL-terminated malloc'd copy of data[0..size) (for APIs that take C strings). */
char *fz_strndup(const uint8_t *data, size_t size);

/*
 * Silence the relay's log (its lines would drown libFuzzer's) and send what
 * the stdout sink writes to /dev/null.  Targets call it once.  FZ_VERBOSE=1
 * in the environment keeps both (to see what a seed does).
 */
void fz_quiet(void);

/* ---- scripted HTTP ------------------------------------------------------- */

/*
 * The answers the wrapped http_do() gives, in order, taken from one input:
 * answers are separated by a line "~~~"; each is an optional status line
 * (digits, or "X" for a transport error) and the body.  Without a status
 * line the answer is a 200.  Once they are used up, http_do() fails as a
 * transport error and fz_http_exhausted is set.
 */
void fz_http_script(const uint8_t *data, size_t size);
extern bool fz_http_exhausted;
/* Called when a request finds the answers used up (NULL: nothing). */
extern void (*fz_http_on_exhausted)(void);
/* Requests served since the last fz_http_script(). */
extern int fz_http_requests;
/* Set: http_do is the real one (a target that serves answers over a socket). */
extern bool fz_http_passthrough;
/* The body of the last answer served (as the client holds it), or "". */
const char *fz_http_last_body(void);

/* ---- virtual clock --------------------------------------------------------- */

/*
 * With -Wl,--wrap=poll,--wrap=relay_now_ms the relay's waits return at once
 * and move this clock instead, so retry backoff costs no real time.
 */
extern int64_t fz_clock_ms;

/* ---- checks ---------------------------------------------------------------- */

/* Abort unless s[0..n) is one JSON object, valid UTF-8, and nothing else. */
void fz_check_json_object(const char *what, const char *s, size_t n);

/*
 * Abort unless the envelope is valid UTF-8 JSON with a string aggregate_id
 * and, if present, a recorded_at that is a real ISO 8601 UTC time
 * (YYYY-MM-DDTHH:MM:SS[.f]Z, each field in range).
 */
void fz_check_envelope(const char *s, size_t n);

#endif /* FZ_H */
