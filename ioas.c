// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOAS objects: the I/O address spaces a user fills with mappings of their
 * memory, and the ioctls that work on them.
 */
#include "iommufd_private.h"

static void iommufd_ioas_destroy(struct iommufd_object *obj)
{
}

const struct iommufd_object_type_ops iommufd_ioas_type = {
	.name = "ioas",
	.destroy = iommufd_ioas_destroy,
};

int iommufd_ioas_alloc_ioctl(struct iommufd_call *call)
{
	struct iommu_ioas_alloc *cmd = call->cmd;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;

	ioas = iommufd_object_new(call->ictx, struct iommufd_ioas, obj,
				  IOMMUFD_OBJ_IOAS);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	ioas->ictx = call->ictx;

	/* Answer before publishing: a failed reply leaves nothing behind. */
	cmd->out_ioas_id = ioas->obj.id;
	rc = iommufd_call_reply(call, sizeof(*cmd));
	if (rc) {
		iommufd_object_discard_destroy(call->ictx, &ioas->obj);
		return rc;
	}
	iommufd_object_publish(call->ictx, &ioas->obj);
	return 0;
}

int iommufd_ioas_option(struct iommufd_call *call)
{
	struct iommu_option *cmd = call->cmd;
	struct iommufd_ioas *ioas;
	int rc = 0;

	ioas = iommufd_ioas_get(call->ictx, cmd->object_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	switch (cmd->op) {
	case IOMMU_OPTION_OP_GET:
		cmd->val64 = !ioas->no_huge_pages;
		break;
	case IOMMU_OPTION_OP_SET:
		if (cmd->val64 > 1)
			rc = -EINVAL;
		else
			ioas->no_huge_pages = !cmd->val64;
		break;
	default:
		rc = -EOPNOTSUPP;
	}
	iommufd_object_put(call->ictx, &ioas->obj);
	return rc;
}
