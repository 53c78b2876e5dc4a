/*
 * file_replace.h
 *		The relay's one durable file write: the --state-file and the
 *		DynamoDB checkpoints are replaced whole, so that after a crash the
 *		file holds either the old or the new contents, and the new ones
 *		survive a power loss once file_replace() has returned.
 */
#ifndef RELAY_FILE_REPLACE_H
#define RELAY_FILE_REPLACE_H

#include <stddef.h>

/*
 * Write data to "<path>.tmp", fsync it, rename it over path, and fsync the
 * directory (without that the rename itself may be lost).  Returns 0, or -1
 * with err naming the step and the file.
 */
int file_replace(const char *path, const void *data, size_t len, char *err, size_t errlen);

#endif
