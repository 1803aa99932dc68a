// The CLinux target is headers only; this file gives SwiftPM a compilation unit.
#include "CLinux.h"
