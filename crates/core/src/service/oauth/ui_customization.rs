//! SetUICustomization / GetUICustomization: a stylesheet and a logo for the hosted pages, for
//! a whole pool (client id `ALL`) or one app client (which then wins over the pool's).
//!
//! The stylesheet is served from this server as its own file, under a Content-Security-Policy
//! that loads nothing from elsewhere; it may not reference other resources at all (`url()`,
//! `@import`), so it cannot be used to send page contents anywhere.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use portcullis_proto::{
    GetUICustomizationRequest, GetUICustomizationResponse, SetUICustomizationRequest,
    SetUICustomizationResponse, UICustomizationType,
};

use super::records::UiCustomizationRecord;
use crate::clock::wire_time;
use crate::context::Core;
use crate::error::ApiError;
use crate::service::{load_client, load_pool};

/// The client id of a pool's default customization.
pub const ALL: &str = "ALL";
/// Cognito's limit for the logo.
pub const MAX_IMAGE_BYTES: usize = 100 * 1024;

fn check_css(css: &str) -> Result<(), ApiError> {
    let lower = css.to_ascii_lowercase();
    if lower.contains("url(") || lower.contains("@import") || lower.contains('\\') {
        return Err(ApiError::invalid_parameter(
            "CSS must not reference other resources (url(), @import) or use escapes.",
        ));
    }
    if lower.contains("</") {
        return Err(ApiError::invalid_parameter("CSS must not contain markup."));
    }
    Ok(())
}

/// The image's media type, from its first bytes: PNG or JPEG only.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// Where the hosted pages load a customization's stylesheet and logo from.
pub fn css_path(r: &UiCustomizationRecord) -> String {
    format!(
        "/ui/custom/{}/{}/style.css?v={}",
        r.pool_id, r.client_id, r.modified_ms
    )
}

pub fn logo_path(r: &UiCustomizationRecord) -> String {
    format!(
        "/ui/custom/{}/{}/logo?v={}",
        r.pool_id, r.client_id, r.modified_ms
    )
}

fn to_wire(core: &Core, r: &UiCustomizationRecord) -> UICustomizationType {
    UICustomizationType {
        user_pool_id: Some(r.pool_id.clone()),
        client_id: Some(r.client_id.clone()),
        image_url: r
            .image
            .as_ref()
            .map(|_| format!("{}{}", core.settings.public_url, logo_path(r))),
        css: r.css.clone(),
        css_version: Some(r.modified_ms.to_string()),
        last_modified_date: Some(wire_time(r.modified_ms)),
        creation_date: Some(wire_time(r.created_ms)),
    }
}

pub async fn set_ui_customization(
    core: &Core,
    req: SetUICustomizationRequest,
) -> Result<SetUICustomizationResponse, ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let client_id = match req.client_id.as_deref() {
        Some(id) if id != ALL => load_client(core, &pool.id, id).await?.id.clone(),
        _ => ALL.to_owned(),
    };
    if let Some(css) = &req.css {
        check_css(css)?;
    }
    let (image, image_type) = match req.image_file.as_deref().filter(|i| !i.is_empty()) {
        None => (None, None),
        Some(b64) => {
            let bytes = STANDARD
                .decode(b64)
                .map_err(|_| ApiError::invalid_parameter("ImageFile is not valid base64."))?;
            if bytes.len() > MAX_IMAGE_BYTES {
                return Err(ApiError::invalid_parameter(
                    "ImageFile must be at most 100 KB.",
                ));
            }
            let kind = image_type(&bytes).ok_or_else(|| {
                ApiError::invalid_parameter("ImageFile must be a PNG or JPEG image.")
            })?;
            (Some(bytes), Some(kind.to_owned()))
        }
    };
    let now = core.now_ms();
    let created_ms = core
        .store
        .get_ui_customization(&pool.id, &client_id)
        .await?
        .map_or(now, |r| r.created_ms);
    let record = UiCustomizationRecord {
        pool_id: pool.id.clone(),
        client_id,
        css: req.css.filter(|c| !c.is_empty()),
        image,
        image_type,
        created_ms,
        modified_ms: now,
    };
    core.store.put_ui_customization(&record).await?;
    Ok(SetUICustomizationResponse {
        ui_customization: to_wire(core, &record),
    })
}

/// The customization that applies to a client: its own, else the pool's.
pub async fn effective(
    core: &Core,
    pool_id: &str,
    client_id: &str,
) -> Result<Option<UiCustomizationRecord>, ApiError> {
    if let Some(r) = core.store.get_ui_customization(pool_id, client_id).await? {
        return Ok(Some(r));
    }
    Ok(core.store.get_ui_customization(pool_id, ALL).await?)
}

pub async fn get_ui_customization(
    core: &Core,
    req: GetUICustomizationRequest,
) -> Result<GetUICustomizationResponse, ApiError> {
    let pool = load_pool(core, &req.user_pool_id).await?;
    let client_id = match req.client_id.as_deref() {
        Some(id) if id != ALL => load_client(core, &pool.id, id).await?.id.clone(),
        _ => ALL.to_owned(),
    };
    let found = effective(core, &pool.id, &client_id).await?;
    Ok(GetUICustomizationResponse {
        ui_customization: match found {
            Some(r) => to_wire(core, &r),
            None => UICustomizationType {
                user_pool_id: Some(pool.id.clone()),
                client_id: Some(client_id),
                ..Default::default()
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_rules() {
        assert!(check_css(".banner-customizable { background-color: #123; }").is_ok());
        assert!(check_css("a { background: URL(https://evil.example/x) }").is_err());
        assert!(check_css("@import 'x.css';").is_err());
        assert!(check_css("a { content: '\\75 rl(' }").is_err());
        assert!(check_css("</style><script>").is_err());
    }

    #[test]
    fn image_types() {
        assert_eq!(
            image_type(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]),
            Some("image/png")
        );
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(image_type(b"<svg"), None);
    }
}
