/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kselftest harness as our tests use it. Its default of 30 s per test
 * measures the machine, not the code: a debug kernel under TCG on a shared
 * 2-core machine runs the larger tests in minutes. Every test gets a
 * generous bound instead; one that hangs is still killed, later.
 */
#ifndef __IOMMUFD_LAB_HARNESS_H
#define __IOMMUFD_LAB_HARNESS_H

#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 600

#endif
