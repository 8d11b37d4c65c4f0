// CLibMount: libmount (util-linux). Every function Swift needs is non-variadic; nothing to wrap.
#ifndef PUS_CLIBMOUNT_SHIM_H
#define PUS_CLIBMOUNT_SHIM_H
#include <libmount/libmount.h>
#endif
