/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's own selftests (tools/testing/selftests/iommu) include the
 * test ABI from this path; ours lives with the test driver in selftest/.
 */
#include "selftest/iommufd_test.h"
