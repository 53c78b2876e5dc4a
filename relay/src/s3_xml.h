/*
 * s3_xml.h
 *		Just enough XML for S3's answers: the text of a named element, the
 *		<Contents> entries of ListObjectsV2, and whether a body is an <Error>
 *		document.  S3 answers are flat, machine-written documents; a general
 *		XML parser would be a dependency for no gain.
 */
#ifndef RELAY_S3_XML_H
#define RELAY_S3_XML_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The decoded text of the first <tag>...</tag> at or after *cursor (entities
 * and character references resolved), malloc'd; NULL if there is none.
 * *cursor moves past the closing tag, so repeated calls walk a list.  end,
 * if not NULL, bounds the search.
 */
char *s3_xml_next(const char **cursor, const char *end, const char *tag);

/*
 * Are body's references all ones XML allows (the five entities, character
 * references to a Char: not NUL, not a surrogate, at most U+10FFFF)?  An S3
 * answer that is not is an error, not data; err says why.  s3_xml_next gives
 * NULL for an element whose text holds such a reference.
 */
bool s3_xml_check(const char *body, char *err, size_t errlen);

/*
 * Is body an S3 error document (root element <Error>)?  Fills code and
 * message when it is.  CompleteMultipartUpload may answer 200 with such a
 * body: a 200 alone is not success.
 */
bool s3_xml_error(const char *body, char *code, size_t codelen, char *msg, size_t msglen);

#endif
