/*
 * ddb_main.h
 *		`eventrelay dynamodb`: the DynamoDB Streams path of the relay (its
 *		options are in ddb.h).
 */
#ifndef DDB_MAIN_H
#define DDB_MAIN_H

/* Entry point of `eventrelay dynamodb [flags]`; returns the exit status. */
int ddb_main(int argc, char **argv);

#endif /* DDB_MAIN_H */
