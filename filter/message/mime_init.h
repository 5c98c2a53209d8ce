/* mime_init.h - initialises GMime and libxml2 once per process, from any thread. */
#ifndef MW_MIME_INIT_H
#define MW_MIME_INIT_H

void mime_libraries_init(void);

#endif
