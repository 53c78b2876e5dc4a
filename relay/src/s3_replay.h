/*
 * s3_replay.h
 *		`eventrelay replay`: read an S3 archive back (key order = position
 *		order) and write its envelopes to stdout or to a Kinesis stream
 *		through the relay's own sinks, so batching, retries, dead letters and
 *		per-aggregate order are exactly the relay's.
 */
#ifndef RELAY_S3_REPLAY_H
#define RELAY_S3_REPLAY_H

/* argv[0] is "replay"; returns the process exit code. */
int replay_main(int argc, char **argv);

#endif
