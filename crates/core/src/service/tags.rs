//! Tags on user pools (the only taggable resource here).

use std::collections::BTreeMap;

use portcullis_proto::{
    ListTagsForResourceRequest, ListTagsForResourceResponse, TagResourceRequest,
    UntagResourceRequest,
};

use super::load_pool;
use crate::context::Core;
use crate::error::ApiError;
use crate::ids;

const MAX_TAGS: usize = 50;

/// The pool the ARN names must exist, and the ARN must be exactly that pool's ARN.
async fn check_resource(core: &Core, arn: &str) -> Result<(), ApiError> {
    let not_found = || ApiError::not_found(format!("Resource {arn} does not exist."));
    let pool_id = ids::pool_id_from_arn(arn).ok_or_else(not_found)?;
    let pool = load_pool(core, pool_id).await.map_err(|_| not_found())?;
    if pool.settings.arn.as_deref() != Some(arn) {
        return Err(not_found());
    }
    Ok(())
}

pub async fn tag_resource(core: &Core, req: TagResourceRequest) -> Result<(), ApiError> {
    check_resource(core, &req.resource_arn).await?;
    let current = core.store.get_tags(&req.resource_arn).await?;
    let after: std::collections::BTreeSet<&String> =
        current.keys().chain(req.tags.keys()).collect();
    if after.len() > MAX_TAGS {
        return Err(ApiError::invalid_parameter(format!(
            "A resource can have at most {MAX_TAGS} tags."
        )));
    }
    core.store.merge_tags(&req.resource_arn, &req.tags).await?;
    Ok(())
}

pub async fn untag_resource(core: &Core, req: UntagResourceRequest) -> Result<(), ApiError> {
    check_resource(core, &req.resource_arn).await?;
    core.store
        .remove_tags(&req.resource_arn, &req.tag_keys)
        .await?;
    Ok(())
}

pub async fn list_tags_for_resource(
    core: &Core,
    req: ListTagsForResourceRequest,
) -> Result<ListTagsForResourceResponse, ApiError> {
    check_resource(core, &req.resource_arn).await?;
    let tags: BTreeMap<String, String> = core.store.get_tags(&req.resource_arn).await?;
    Ok(ListTagsForResourceResponse { tags: Some(tags) })
}
