/* placeholder */
#include "sink.h"
#include <stdio.h>
static sink *
s_open(const struct relay_config *cfg, struct deadletter *dl, char *err, size_t errlen)
{
	(void) cfg;
	(void) dl;
	snprintf(err, errlen, "the Kinesis sink is not built yet");
	return NULL;
}
const sink_type sink_type_kinesis = {"kinesis", "", "", s_open};
