/* milter_readahead.h - buffered reading of the MTA's milter connections: see
 * milter_readahead.c. */
#ifndef MW_MILTER_READAHEAD_H
#define MW_MILTER_READAHEAD_H

/* Makes reads of fd (a connection just accepted from the MTA) buffered until it is closed. */
void milter_readahead_register(int fd);

#endif
