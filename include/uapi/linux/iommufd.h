/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * User ABI of /dev/iommu (IOMMUFD).
 *
 * Layout and numbering of everything below are fixed by the Linux 6.12
 * ABI; only the wording of the comments is ours.
 */
#ifndef _UAPI_IOMMUFD_H
#define _UAPI_IOMMUFD_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define IOMMUFD_TYPE (';')

/**
 * DOC: Calling convention
 *
 * Every command takes a pointer to its own struct. The leading __u32 of
 * that struct is always @size, set by the caller to the size of the
 * struct it was built against. Structs only ever grow at the tail: the
 * kernel accepts a longer struct as long as every byte past the part it
 * knows about is zero. A shorter struct, down to a per-command minimum,
 * is read as if its missing tail were zero. Reserved fields must be zero.
 *
 * Error codes shared by all commands:
 *
 *  - ENOTTY: no such command.
 *  - E2BIG: the tail beyond the known layout holds a non-zero byte.
 *  - EOPNOTSUPP: a flag, type or option is recognised by the struct
 *    layout but is not implemented.
 *  - EINVAL: a value is malformed or inconsistent.
 *  - ENOENT: the referenced ID or IOVA is unknown.
 *  - ENOMEM: allocation failure.
 *  - EOVERFLOW: an address or length computation wrapped.
 *
 * Individual commands document any further codes they return.
 */

/*
 * Command numbers, the "nr" part of each ioctl. These values are ABI and
 * must never be renumbered or reused.
 */
enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
	IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
	IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
	IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d,
	IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e,
	IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f,
	/* 0x90 and 0x91 are taken by later kernels' vIOMMU and vDEVICE */
	IOMMUFD_CMD_IOAS_CHANGE_PROCESS = 0x92,
};

/* ---- Object lifetime --------------------------------------------------- */

/**
 * struct iommu_destroy - argument of IOMMU_DESTROY
 * @size: caller's sizeof(struct iommu_destroy)
 * @id: object to drop; any kind of object that userspace may free
 */
struct iommu_destroy {
	__u32 size;
	__u32 id;
};

/* IOMMU_DESTROY: free the object named by @id. */
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

/* ---- I/O address spaces ------------------------------------------------ */

/**
 * struct iommu_ioas_alloc - argument of IOMMU_IOAS_ALLOC
 * @size: caller's sizeof(struct iommu_ioas_alloc)
 * @flags: reserved for future use, pass 0
 * @out_ioas_id: filled in with the ID of the new IOAS
 */
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};

/* IOMMU_IOAS_ALLOC: create an empty I/O address space (IOAS). */
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

/**
 * struct iommu_iova_range - one closed interval of IOVA
 * @start: lowest address inside the interval
 * @last: highest address inside the interval (not one past it)
 *
 * Array element used by IOMMU_IOAS_IOVA_RANGES and IOMMU_IOAS_ALLOW_IOVAS.
 */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/**
 * struct iommu_ioas_iova_ranges - argument of IOMMU_IOAS_IOVA_RANGES
 * @size: caller's sizeof(struct iommu_ioas_iova_ranges)
 * @ioas_id: IOAS to report on
 * @num_iovas: in: capacity of @allowed_iovas in entries;
 *             out: how many intervals the IOAS currently has
 * @__reserved: pass 0
 * @allowed_iovas: user address of a struct iommu_iova_range array
 * @out_iova_alignment: filled in with the granule that both the start and
 *                      the end of any new mapping must be a multiple of
 *
 * The usable IOVA space of an IOAS is the full space minus whatever the
 * attached devices cannot reach, so it may shrink on attach and grow again
 * on detach; ask again after either. If @num_iovas is too small, nothing
 * beyond the capacity is written, @num_iovas is set to the count needed
 * and the call fails with EMSGSIZE. The alignment is at least 1 and never
 * more than PAGE_SIZE.
 */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};

/* IOMMU_IOAS_IOVA_RANGES: list the IOVA intervals that may be mapped. */
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

/**
 * struct iommu_ioas_allow_iovas - argument of IOMMU_IOAS_ALLOW_IOVAS
 * @size: caller's sizeof(struct iommu_ioas_allow_iovas)
 * @ioas_id: IOAS whose allow list is set
 * @num_iovas: number of entries in @allowed_iovas
 * @__reserved: pass 0
 * @allowed_iovas: user address of a struct iommu_iova_range array
 *
 * The given list replaces any earlier one. Once set, the IOAS promises
 * that these intervals stay usable: attaching a device that would carve
 * into them is refused, and setting the list fails if they are already
 * unusable. Automatic IOVA placement by IOMMU_IOAS_MAP then picks only
 * addresses inside the list.
 */
struct iommu_ioas_allow_iovas {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
};

/* IOMMU_IOAS_ALLOW_IOVAS: reserve IOVA intervals that must stay mappable. */
#define IOMMU_IOAS_ALLOW_IOVAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)

/**
 * enum iommufd_ioas_map_flags - flags of IOMMU_IOAS_MAP and IOMMU_IOAS_COPY
 * @IOMMU_IOAS_MAP_FIXED_IOVA: the caller chooses the IOVA; without it the
 *                             kernel picks a free spot and reports it
 * @IOMMU_IOAS_MAP_WRITEABLE: devices may write through the mapping
 * @IOMMU_IOAS_MAP_READABLE: devices may read through the mapping
 */
enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

/**
 * struct iommu_ioas_map - argument of IOMMU_IOAS_MAP
 * @size: caller's sizeof(struct iommu_ioas_map)
 * @flags: bitwise OR of enum iommufd_ioas_map_flags
 * @ioas_id: IOAS that receives the mapping
 * @__reserved: pass 0
 * @user_va: start of the process memory to map
 * @length: byte count of the mapping
 * @iova: with IOMMU_IOAS_MAP_FIXED_IOVA, the IOVA to use (input); in every
 *        case, the IOVA the mapping ended up at (output)
 *
 * A fixed IOVA never replaces an existing mapping: the whole interval has
 * to be free. Without a fixed IOVA the kernel chooses an address that
 * respects the reserved regions and any allow list.
 */
struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};

/* IOMMU_IOAS_MAP: pin process memory and make it visible at an IOVA. */
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

/**
 * struct iommu_ioas_copy - argument of IOMMU_IOAS_COPY
 * @size: caller's sizeof(struct iommu_ioas_copy)
 * @flags: bitwise OR of enum iommufd_ioas_map_flags
 * @dst_ioas_id: IOAS that receives the new mapping
 * @src_ioas_id: IOAS that already holds the pages
 * @length: byte count to duplicate
 * @dst_iova: destination IOVA, input when IOMMU_IOAS_MAP_FIXED_IOVA is
 *            given, output always
 * @src_iova: where the pages sit in the source IOAS
 *
 * The source interval has to coincide with one earlier IOMMU_IOAS_MAP.
 * The pages are shared rather than pinned a second time, which makes this
 * cheaper than mapping the same memory again.
 */
struct iommu_ioas_copy {
	__u32 size;
	__u32 flags;
	__u32 dst_ioas_id;
	__u32 src_ioas_id;
	__aligned_u64 length;
	__aligned_u64 dst_iova;
	__aligned_u64 src_iova;
};

/* IOMMU_IOAS_COPY: map pages already pinned by one IOAS into another. */
#define IOMMU_IOAS_COPY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY)

/**
 * struct iommu_ioas_unmap - argument of IOMMU_IOAS_UNMAP
 * @size: caller's sizeof(struct iommu_ioas_unmap)
 * @ioas_id: IOAS to remove mappings from
 * @iova: first IOVA of the interval
 * @length: in: byte count of the interval; out: bytes actually removed
 *
 * Only whole mappings are removed; an interval that would cut one in two
 * is rejected. Passing iova 0 and length U64_MAX empties the IOAS.
 */
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};

/* IOMMU_IOAS_UNMAP: drop every mapping inside an IOVA interval. */
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

/* ---- Options ----------------------------------------------------------- */

/**
 * enum iommufd_option - option selectors of IOMMU_OPTION
 * @IOMMU_OPTION_RLIMIT_MODE: which RLIMIT_MEMLOCK pin accounting this
 *                            context uses: 0 charges the user (default),
 *                            1 charges the process. Setting it needs
 *                            privilege. Applies to the whole context, so
 *                            object_id is 0.
 * @IOMMU_OPTION_HUGE_PAGES: per IOAS (object_id names it). 1 (default)
 *                           lets physically contiguous pages share a large
 *                           IOPTE; 0 maps everything at PAGE_SIZE, mainly
 *                           for measurements.
 */
enum iommufd_option {
	IOMMU_OPTION_RLIMIT_MODE = 0,
	IOMMU_OPTION_HUGE_PAGES = 1,
};

/**
 * enum iommufd_option_ops - direction of an IOMMU_OPTION call
 * @IOMMU_OPTION_OP_SET: store val64 into the option
 * @IOMMU_OPTION_OP_GET: read the option back into val64
 */
enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0,
	IOMMU_OPTION_OP_GET = 1,
};

/**
 * struct iommu_option - argument of IOMMU_OPTION
 * @size: caller's sizeof(struct iommu_option)
 * @option_id: an enum iommufd_option value
 * @op: an enum iommufd_option_ops value
 * @__reserved: pass 0
 * @object_id: object the option belongs to, or 0 for global options
 * @val64: value written on set, value returned on get
 */
struct iommu_option {
	__u32 size;
	__u32 option_id;
	__u16 op;
	__u16 __reserved;
	__u32 object_id;
	__aligned_u64 val64;
};

/* IOMMU_OPTION: read or write one tunable of the context or an object. */
#define IOMMU_OPTION _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

/* ---- VFIO container compatibility -------------------------------------- */

/**
 * enum iommufd_vfio_ioas_op - operations of IOMMU_VFIO_IOAS
 * @IOMMU_VFIO_IOAS_GET: report the IOAS used by the VFIO container API
 * @IOMMU_VFIO_IOAS_SET: make ioas_id the IOAS used by that API
 * @IOMMU_VFIO_IOAS_CLEAR: forget the IOAS, turning that API off
 */
enum iommufd_vfio_ioas_op {
	IOMMU_VFIO_IOAS_GET = 0,
	IOMMU_VFIO_IOAS_SET = 1,
	IOMMU_VFIO_IOAS_CLEAR = 2,
};

/**
 * struct iommu_vfio_ioas - argument of IOMMU_VFIO_IOAS
 * @size: caller's sizeof(struct iommu_vfio_ioas)
 * @ioas_id: input for the SET operation, output of the GET operation
 * @op: an enum iommufd_vfio_ioas_op value
 * @__reserved: pass 0
 *
 * The legacy VFIO type1 calls carry no IOAS ID, so one IOAS per context is
 * designated for them. If none is designated when a VFIO container is
 * first used, one is created on the fly. Neither SET nor CLEAR destroys an
 * IOAS that was created that way.
 */
struct iommu_vfio_ioas {
	__u32 size;
	__u32 ioas_id;
	__u16 op;
	__u16 __reserved;
};

/* IOMMU_VFIO_IOAS: query or change the IOAS behind the VFIO container API. */
#define IOMMU_VFIO_IOAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS)

/* ---- Hardware page tables ---------------------------------------------- */

/**
 * enum iommufd_hwpt_alloc_flags - flags of IOMMU_HWPT_ALLOC
 * @IOMMU_HWPT_ALLOC_NEST_PARENT: the new table may later be used as the
 *                                stage-2 of nested tables
 * @IOMMU_HWPT_ALLOC_DIRTY_TRACKING: require an IOMMU able to log dirty
 *                                   pages; devices without it cannot attach
 * @IOMMU_HWPT_FAULT_ID_VALID: fault_id carries a fault queue to report
 *                             I/O page faults to
 */
enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
};

/**
 * enum iommu_hwpt_data_type - format of the data_uptr blob of IOMMU_HWPT_ALLOC
 * @IOMMU_HWPT_DATA_NONE: no blob; the table is built by the kernel from an
 *                        IOAS
 * @IOMMU_HWPT_DATA_VTD_S1: blob is a struct iommu_hwpt_vtd_s1
 */
enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,
	IOMMU_HWPT_DATA_VTD_S1 = 1,
};

/**
 * enum iommu_hwpt_vtd_s1_flags - attribute bits of a VT-d first-stage table
 * @IOMMU_VTD_S1_SRE: allow requests with supervisor privilege
 * @IOMMU_VTD_S1_EAFE: turn on the extended accessed flag
 * @IOMMU_VTD_S1_WPE: honour write protection for supervisor requests
 */
enum iommu_hwpt_vtd_s1_flags {
	IOMMU_VTD_S1_SRE = 1 << 0,
	IOMMU_VTD_S1_EAFE = 1 << 1,
	IOMMU_VTD_S1_WPE = 1 << 2,
};

/**
 * struct iommu_hwpt_vtd_s1 - guest-owned VT-d first-stage table
 * @flags: bitwise OR of enum iommu_hwpt_vtd_s1_flags
 * @pgtbl_addr: guest physical address of the table root
 * @addr_width: input address bits the table translates
 * @__reserved: pass 0
 *
 * Blob for IOMMU_HWPT_DATA_VTD_S1.
 */
struct iommu_hwpt_vtd_s1 {
	__aligned_u64 flags;
	__aligned_u64 pgtbl_addr;
	__u32 addr_width;
	__u32 __reserved;
};

/**
 * struct iommu_hwpt_alloc - argument of IOMMU_HWPT_ALLOC
 * @size: caller's sizeof(struct iommu_hwpt_alloc)
 * @flags: bitwise OR of enum iommufd_hwpt_alloc_flags
 * @dev_id: bound device the table is meant for
 * @pt_id: IOAS to mirror, or a NEST_PARENT HWPT to nest under
 * @out_hwpt_id: filled in with the new HWPT's ID
 * @__reserved: pass 0
 * @data_type: an enum iommu_hwpt_data_type value
 * @data_len: byte length of the blob at @data_uptr
 * @data_uptr: user address of the driver specific blob
 * @fault_id: fault queue object; looked at only with
 *            IOMMU_HWPT_FAULT_ID_VALID
 * @__reserved2: pass 0; keeps the struct a multiple of 8 bytes
 *
 * Two kinds of table can be made. With @pt_id naming an IOAS and
 * @data_type IOMMU_HWPT_DATA_NONE (blob pointer and length both 0), the
 * kernel owns the table and fills it from the IOAS. With @pt_id naming a
 * HWPT that was allocated with IOMMU_HWPT_ALLOC_NEST_PARENT, the table is
 * a nested one owned by userspace, described by a blob whose format is
 * given by @data_type and must be understood by the device's IOMMU.
 */
struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
	__u32 data_type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id;
	__u32 __reserved2;
};

/* IOMMU_HWPT_ALLOC: create a hardware page table (an iommu_domain). */
#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)

/* ---- Hardware information ---------------------------------------------- */

/**
 * enum iommu_hw_info_type - format of the data_uptr blob of IOMMU_GET_HW_INFO
 * @IOMMU_HW_INFO_TYPE_NONE: the driver has no blob to give
 * @IOMMU_HW_INFO_TYPE_DEFAULT: same value as NONE; as an input type it asks
 *                              for whatever the driver reports by default
 * @IOMMU_HW_INFO_TYPE_INTEL_VTD: blob is a struct iommu_hw_info_vtd
 */
enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,
	IOMMU_HW_INFO_TYPE_DEFAULT = 0,
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
};

/**
 * enum iommufd_hw_info_flags - flags of IOMMU_GET_HW_INFO
 * @IOMMU_HW_INFO_FLAG_INPUT_TYPE: in_data_type is read as input and selects
 *                                which blob format the caller wants; with
 *                                the flag clear the driver picks
 */
enum iommufd_hw_info_flags {
	IOMMU_HW_INFO_FLAG_INPUT_TYPE = 1 << 0,
};

/**
 * enum iommufd_hw_capabilities - generic IOMMU features of a device
 * @IOMMU_HW_CAP_DIRTY_TRACKING: dirty page logging is available, so
 *                               IOMMU_HWPT_SET_DIRTY_TRACKING and
 *                               IOMMU_HWPT_GET_DIRTY_BITMAP can be used
 * @IOMMU_HW_CAP_PCI_PASID_EXEC: PASID requests may ask for execute access;
 *                               meaningless if out_max_pasid_log2 is 0
 * @IOMMU_HW_CAP_PCI_PASID_PRIV: PASID requests may ask for privileged mode;
 *                               meaningless if out_max_pasid_log2 is 0
 */
enum iommufd_hw_capabilities {
	IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
	IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1,
	IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2,
};

/**
 * enum iommu_hw_info_vtd_flags - flags of struct iommu_hw_info_vtd
 * @IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17: a NEST_PARENT table cannot hold
 *                                         read-only mappings on this part
 *                                         (Intel erratum 772415, SPR17)
 */
enum iommu_hw_info_vtd_flags {
	IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0,
};

/**
 * struct iommu_hw_info_vtd - Intel VT-d blob of IOMMU_GET_HW_INFO
 * @flags: bitwise OR of enum iommu_hw_info_vtd_flags
 * @__reserved: 0
 * @cap_reg: raw copy of the VT-d CAP_REG register
 * @ecap_reg: raw copy of the VT-d ECAP_REG register
 *
 * Decoding the two registers is left to the caller; see the VT-d
 * architecture specification for their bit layout.
 */
struct iommu_hw_info_vtd {
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 cap_reg;
	__aligned_u64 ecap_reg;
};

/**
 * struct iommu_hw_info - argument of IOMMU_GET_HW_INFO
 * @size: caller's sizeof(struct iommu_hw_info)
 * @flags: bitwise OR of enum iommufd_hw_info_flags
 * @dev_id: bound device whose IOMMU is described
 * @data_len: in: room at @data_uptr in bytes (0 is fine);
 *            out: size of the blob the kernel has
 * @data_uptr: user address that receives the driver specific blob
 * @in_data_type: with IOMMU_HW_INFO_FLAG_INPUT_TYPE, the enum
 *                iommu_hw_info_type the caller asks for
 * @out_data_type: on return, the enum iommu_hw_info_type of the blob;
 *                 shares storage with @in_data_type
 * @out_max_pasid_log2: number of PASID bits the device supports, 0 when
 *                      PASID is not available
 * @__reserved: pass 0
 * @out_capabilities: bitwise OR of enum iommufd_hw_capabilities
 *
 * Lets a VMM learn what the physical IOMMU behind a device can do, for
 * example to expose a matching virtual IOMMU to a guest. The kernel copies
 * at most @data_len bytes of the blob and zeroes the rest of a larger
 * buffer.
 */
struct iommu_hw_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 data_len;
	__aligned_u64 data_uptr;
	union {
		__u32 in_data_type;
		__u32 out_data_type;
	};
	__u8 out_max_pasid_log2;
	__u8 __reserved[3];
	__aligned_u64 out_capabilities;
};

/* IOMMU_GET_HW_INFO: describe the IOMMU that serves a bound device. */
#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

/* ---- Dirty page tracking ----------------------------------------------- */

/**
 * enum iommufd_hwpt_set_dirty_tracking_flags - flags of
 *                                              IOMMU_HWPT_SET_DIRTY_TRACKING
 * @IOMMU_HWPT_DIRTY_TRACKING_ENABLE: start logging; stop when clear
 */
enum iommufd_hwpt_set_dirty_tracking_flags {
	IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1,
};

/**
 * struct iommu_hwpt_set_dirty_tracking - argument of
 *                                        IOMMU_HWPT_SET_DIRTY_TRACKING
 * @size: caller's sizeof(struct iommu_hwpt_set_dirty_tracking)
 * @flags: bitwise OR of enum iommufd_hwpt_set_dirty_tracking_flags
 * @hwpt_id: HWPT to act on
 * @__reserved: pass 0
 */
struct iommu_hwpt_set_dirty_tracking {
	__u32 size;
	__u32 flags;
	__u32 hwpt_id;
	__u32 __reserved;
};

/* IOMMU_HWPT_SET_DIRTY_TRACKING: switch dirty logging of a HWPT on or off. */
#define IOMMU_HWPT_SET_DIRTY_TRACKING _IO(IOMMUFD_TYPE, \
					  IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING)

/**
 * enum iommufd_hwpt_get_dirty_bitmap_flags - flags of
 *                                            IOMMU_HWPT_GET_DIRTY_BITMAP
 * @IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR: report dirty bits but leave them
 *                                        set, useful when the range is
 *                                        about to be unmapped anyway
 */
enum iommufd_hwpt_get_dirty_bitmap_flags {
	IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1,
};

/**
 * struct iommu_hwpt_get_dirty_bitmap - argument of IOMMU_HWPT_GET_DIRTY_BITMAP
 * @size: caller's sizeof(struct iommu_hwpt_get_dirty_bitmap)
 * @hwpt_id: HWPT to scan
 * @flags: bitwise OR of enum iommufd_hwpt_get_dirty_bitmap_flags
 * @__reserved: pass 0
 * @iova: IOVA that bit 0 of the bitmap stands for
 * @length: byte length of the scanned IOVA range
 * @page_size: how many bytes of IOVA each bit covers
 * @data: user address of the bitmap, an array of 64-bit words
 *
 * Bit n of the bitmap (word n / 64, bit n % 64) stands for the page at
 * @iova + n * @page_size; the kernel sets it when that page was written.
 * Unless NO_CLEAR is given, the dirty state in the IOMMU is reset as it is
 * read.
 */
struct iommu_hwpt_get_dirty_bitmap {
	__u32 size;
	__u32 hwpt_id;
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 data;
};

/* IOMMU_HWPT_GET_DIRTY_BITMAP: collect the pages written since last read. */
#define IOMMU_HWPT_GET_DIRTY_BITMAP _IO(IOMMUFD_TYPE, \
					IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP)

/* ---- Cache invalidation of user-owned tables --------------------------- */

/**
 * enum iommu_hwpt_invalidate_data_type - entry format of IOMMU_HWPT_INVALIDATE
 * @IOMMU_HWPT_INVALIDATE_DATA_VTD_S1: entries are
 *                                     struct iommu_hwpt_vtd_s1_invalidate
 */
enum iommu_hwpt_invalidate_data_type {
	IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
};

/**
 * enum iommu_hwpt_vtd_s1_invalidate_flags - flags of a VT-d invalidation
 * @IOMMU_VTD_INV_FLAGS_LEAF: only leaf entries changed, so paging
 *                            structure caches of upper levels may be kept
 */
enum iommu_hwpt_vtd_s1_invalidate_flags {
	IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0,
};

/**
 * struct iommu_hwpt_vtd_s1_invalidate - one VT-d first-stage invalidation
 * @addr: first address to flush, 4KiB aligned
 * @npages: count of 4KiB pages to flush
 * @flags: bitwise OR of enum iommu_hwpt_vtd_s1_invalidate_flags
 * @__reserved: pass 0
 *
 * Entry for IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, sent after the guest edits
 * its first-stage table. @addr 0 with @npages U64_MAX flushes everything.
 * If ATS is on, the device TLB is flushed too without being asked.
 */
struct iommu_hwpt_vtd_s1_invalidate {
	__aligned_u64 addr;
	__aligned_u64 npages;
	__u32 flags;
	__u32 __reserved;
};

/**
 * struct iommu_hwpt_invalidate - argument of IOMMU_HWPT_INVALIDATE
 * @size: caller's sizeof(struct iommu_hwpt_invalidate)
 * @hwpt_id: nested HWPT whose caches are flushed
 * @data_uptr: user address of the entry array
 * @data_type: an enum iommu_hwpt_invalidate_data_type value, the same for
 *             every entry, and one the HWPT accepts
 * @entry_len: byte size of one entry
 * @entry_num: in: entries in the array; out: entries the kernel completed
 * @__reserved: pass 0
 *
 * With @entry_num 0 nothing is flushed and @data_uptr and @entry_len are
 * not looked at, which lets the caller test whether @data_type is known.
 */
struct iommu_hwpt_invalidate {
	__u32 size;
	__u32 hwpt_id;
	__aligned_u64 data_uptr;
	__u32 data_type;
	__u32 entry_len;
	__u32 entry_num;
	__u32 __reserved;
};

/* IOMMU_HWPT_INVALIDATE: flush IOMMU caches of a user-owned page table. */
#define IOMMU_HWPT_INVALIDATE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_INVALIDATE)

/* ---- I/O page fault delivery ------------------------------------------- */

/**
 * enum iommu_hwpt_pgfault_flags - flags of struct iommu_hwpt_pgfault
 * @IOMMU_PGFAULT_FLAGS_PASID_VALID: @pasid carries a real value
 * @IOMMU_PGFAULT_FLAGS_LAST_PAGE: final record of its group; answer it
 */
enum iommu_hwpt_pgfault_flags {
	IOMMU_PGFAULT_FLAGS_PASID_VALID = (1 << 0),
	IOMMU_PGFAULT_FLAGS_LAST_PAGE = (1 << 1),
};

/**
 * enum iommu_hwpt_pgfault_perm - access asked for by a faulting request
 * @IOMMU_PGFAULT_PERM_READ: read
 * @IOMMU_PGFAULT_PERM_WRITE: write
 * @IOMMU_PGFAULT_PERM_EXEC: instruction fetch (PASID prefix with the
 *                           Execute Requested bit, PCIe 10.4.1)
 * @IOMMU_PGFAULT_PERM_PRIV: privileged access (PASID prefix with the
 *                           Privileged Mode Requested bit, PCIe 10.4.1)
 */
enum iommu_hwpt_pgfault_perm {
	IOMMU_PGFAULT_PERM_READ = (1 << 0),
	IOMMU_PGFAULT_PERM_WRITE = (1 << 1),
	IOMMU_PGFAULT_PERM_EXEC = (1 << 2),
	IOMMU_PGFAULT_PERM_PRIV = (1 << 3),
};

/**
 * struct iommu_hwpt_pgfault - fault record read from a fault queue fd
 * @flags: bitwise OR of enum iommu_hwpt_pgfault_flags
 * @dev_id: bound device that raised the fault
 * @pasid: PASID of the request, if PASID_VALID is set
 * @grpid: page request group index
 * @perm: bitwise OR of enum iommu_hwpt_pgfault_perm
 * @__reserved: 0
 * @addr: faulting address
 * @length: optional hint of how many bytes the device expects to touch
 *          from @addr, letting the handler fault in more at once; 0 when
 *          there is no hint
 * @cookie: kernel tag of the group; copy the one from the LAST_PAGE
 *          record into the response
 */
struct iommu_hwpt_pgfault {
	__u32 flags;
	__u32 dev_id;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;
	__u32 __reserved;
	__aligned_u64 addr;
	__u32 length;
	__u32 cookie;
};

/**
 * enum iommufd_page_response_code - outcome written back for a fault group
 * @IOMMUFD_PAGE_RESP_SUCCESS: the mapping now exists, the device should
 *                             retry (PCIe "Success" response, 10.4.2.1)
 * @IOMMUFD_PAGE_RESP_INVALID: the fault cannot be resolved, the device
 *                             must not retry (PCIe "Invalid Request")
 */
enum iommufd_page_response_code {
	IOMMUFD_PAGE_RESP_SUCCESS = 0,
	IOMMUFD_PAGE_RESP_INVALID = 1,
};

/**
 * struct iommu_hwpt_page_response - reply written to a fault queue fd
 * @cookie: value taken from the fault record being answered
 * @code: an enum iommufd_page_response_code value
 */
struct iommu_hwpt_page_response {
	__u32 cookie;
	__u32 code;
};

/**
 * struct iommu_fault_alloc - argument of IOMMU_FAULT_QUEUE_ALLOC
 * @size: caller's sizeof(struct iommu_fault_alloc)
 * @flags: reserved for future use, pass 0
 * @out_fault_id: filled in with the object ID, for use as a HWPT fault_id
 * @out_fault_fd: filled in with a file descriptor; read() yields struct
 *                iommu_hwpt_pgfault records, write() takes struct
 *                iommu_hwpt_page_response replies
 */
struct iommu_fault_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_fault_id;
	__u32 out_fault_fd;
};

/* IOMMU_FAULT_QUEUE_ALLOC: create a queue that delivers I/O page faults. */
#define IOMMU_FAULT_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_FAULT_QUEUE_ALLOC)

/**
 * struct iommu_ioas_map_file - argument of IOMMU_IOAS_MAP_FILE
 * @size: caller's sizeof(struct iommu_ioas_map_file)
 * @flags: bitwise OR of enum iommufd_ioas_map_flags
 * @ioas_id: IOAS that receives the mapping
 * @fd: a memfd, on shmem or on hugetlbfs
 * @start: byte offset in the file of the first byte to map
 * @length: byte count of the mapping
 * @iova: as in struct iommu_ioas_map, input with IOMMU_IOAS_MAP_FIXED_IOVA
 *        and output always
 *
 * Like IOMMU_IOAS_MAP, but the memory is named by the file rather than by
 * where a process maps it: the pages are taken from the file's page cache,
 * so the mapping stays whatever becomes of the process's view of the file.
 * The range must lie inside the file when it is mapped.
 */
struct iommu_ioas_map_file {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__s32 fd;
	__aligned_u64 start;
	__aligned_u64 length;
	__aligned_u64 iova;
};

/* IOMMU_IOAS_MAP_FILE: pin pages of a memfd and make them visible at an IOVA. */
#define IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP_FILE)

/**
 * struct iommu_ioas_change_process - argument of IOMMU_IOAS_CHANGE_PROCESS
 * @size: caller's sizeof(struct iommu_ioas_change_process)
 * @__reserved: pass 0
 *
 * Charge every page the context holds pinned to the calling process from
 * now on, its mm and its user, in place of the process that mapped it.
 * Only file mappings can move: if any IOAS of the context maps process
 * memory by address, nothing changes. This is how a VMM hands its devices
 * to a new process in a live update, before the old process exits.
 */
struct iommu_ioas_change_process {
	__u32 size;
	__u32 __reserved;
};

/* IOMMU_IOAS_CHANGE_PROCESS: move the pinned-page charge to the caller. */
#define IOMMU_IOAS_CHANGE_PROCESS \
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_CHANGE_PROCESS)

#endif /* _UAPI_IOMMUFD_H */
