//! The hosted pages: `/oauth2/authorize`, `/login` (sign-in and new-password forms), and
//! `/logout`. Server-rendered with askama (auto-escaped); every page carries a strict
//! Content-Security-Policy (`frame-ancestors 'none'`), `no-store` and `no-referrer`.
//!
//! Forms are protected by a double-submit token: a random value sealed into an HttpOnly,
//! SameSite=Lax cookie and repeated in a hidden field. The hosted-UI session is a sealed
//! cookie too (one hour), so any node can read it and nothing about it lives in memory.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use portcullis_core::service::oauth::authorize::{
    self, AuthorizeError, AuthorizeParams, ValidAuthorize,
};
use portcullis_core::service::oauth::hosted::{self, CsrfToken, LoginOutcome, UiSession};
use portcullis_core::service::oauth::ui_customization;
use portcullis_core::{ApiError, Core, ErrorCode};

use crate::AppState;
use crate::oauth::{FormError, host_pool, read_form, unique};

const CSRF_COOKIE: &str = "portcullis-csrf";
const SESSION_COOKIE: &str = "portcullis-session";
/// Sign-in forms are tiny; a larger body is refused unread.
pub const MAX_LOGIN_FORM_BYTES: usize = 8 * 1024;
const STYLE: &str = include_str!("../../templates/style.css");

mod self_service;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/signup",
            get(self_service::signup_page).post(self_service::signup_submit),
        )
        .route(
            "/confirm",
            get(self_service::confirm_page).post(self_service::confirm_submit),
        )
        .route(
            "/forgotPassword",
            get(self_service::forgot_page).post(self_service::forgot_submit),
        )
        .route(
            "/confirmForgotPassword",
            get(self_service::forgot_page).post(self_service::reset_submit),
        )
        .route("/oauth2/authorize", get(authorize_page))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", get(logout))
        .route("/error", get(error_route))
        .route("/ui/style.css", get(style))
        .route("/ui/custom/{pool_id}/{client_id}/{file}", get(custom_asset))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate<'a> {
    branding: &'a Branding,
    action: &'a str,
    csrf: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    links: &'a [Link],
}

#[derive(Template)]
#[template(path = "new_password.html")]
struct NewPasswordTemplate<'a> {
    branding: &'a Branding,
    action: &'a str,
    csrf: &'a str,
    session: &'a str,
    username: &'a str,
    required_attributes: &'a [String],
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessageTemplate<'a> {
    branding: &'a Branding,
    title: &'a str,
    message: &'a str,
    back: Option<&'a str>,
}

/// A pool's or client's stylesheet and logo (SetUICustomization), as page links.
#[derive(Debug, Default)]
struct Branding {
    css_url: Option<String>,
    logo_url: Option<String>,
}

async fn branding(core: &Core, valid: &ValidAuthorize) -> Branding {
    match ui_customization::effective(core, &valid.ctx.pool.id, &valid.ctx.client.id).await {
        Ok(Some(r)) => Branding {
            css_url: r.css.as_ref().map(|_| ui_customization::css_path(&r)),
            logo_url: r.image.as_ref().map(|_| ui_customization::logo_path(&r)),
        },
        Ok(None) => Branding::default(),
        Err(e) => {
            tracing::warn!(error = %e, "UI customization unavailable");
            Branding::default()
        }
    }
}

/// `GET /ui/custom/{pool}/{client}/style.css` and `.../logo`: a customization's files.
async fn custom_asset(
    State(state): State<AppState>,
    Path((pool_id, client_id, file)): Path<(String, String, String)>,
) -> Response {
    let found = state
        .core
        .store
        .get_ui_customization(&pool_id, &client_id)
        .await;
    let record = match found {
        Ok(Some(r)) => r,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return internal_page(&e.into()),
    };
    let (body, media) = match (file.as_str(), record.css, record.image, record.image_type) {
        ("style.css", Some(css), _, _) => (css.into_bytes(), "text/css; charset=utf-8".to_owned()),
        ("logo", _, Some(image), Some(kind)) => (image, kind),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut res = body.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&media) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    res
}

async fn style() -> Response {
    let mut res = STYLE.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// `'self'` plus where the form's answer redirects to: browsers apply `form-action` to the
/// redirect that follows a form submission.
fn form_action_source(redirect_uri: &str) -> String {
    let Some((scheme, rest)) = redirect_uri.split_once("://") else {
        return String::new();
    };
    if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        format!(" {scheme}://{authority}")
    } else {
        format!(" {scheme}:")
    }
}

fn secure_headers(res: &mut Response, form_action: &str) {
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; \
         frame-ancestors 'none'; form-action {form_action}"
    );
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

fn html(status: StatusCode, body: Result<String, askama::Error>, form_action: &str) -> Response {
    let mut res = match body {
        Ok(text) => (status, text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal error").into_response()
        }
    };
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(&mut res, form_action);
    res
}

fn message_page(status: StatusCode, title: &str, message: &str, back: Option<&str>) -> Response {
    html(
        status,
        MessageTemplate {
            branding: &Branding::default(),
            title,
            message,
            back,
        }
        .render(),
        "'none'",
    )
}

fn error_page(status: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    message_page(status, "Sign-in error", message, None)
}

/// `GET /error`: the page an authorization request that cannot go back to its client ends
/// on, with Cognito's code in the URL (`?error=redirect_mismatch&client_id=...`).
async fn error_route(uri: Uri) -> Response {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let message = pairs
        .iter()
        .find(|(k, _)| k == "error")
        .and_then(|(_, code)| authorize::error_page_message(code))
        .unwrap_or("The sign-in request cannot be completed.");
    error_page(400, message)
}

/// The page a throttled browser sees (429).
pub fn too_many_requests_page() -> Response {
    let mut res = message_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests",
        "Too many requests came from your network. Wait a moment and try again.",
        None,
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

fn internal_page(e: &ApiError) -> Response {
    tracing::error!(error = %e, "hosted UI failure");
    error_page(500, "Something went wrong on our side. Try again later.")
}

fn redirect(location: &str) -> Response {
    let mut res = StatusCode::FOUND.into_response();
    match HeaderValue::from_str(location) {
        Ok(v) => {
            res.headers_mut().insert(header::LOCATION, v);
        }
        Err(_) => return error_page(400, "The redirect address is not valid."),
    }
    secure_headers(&mut res, "'none'");
    res
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn secure(core: &Core) -> bool {
    core.settings.public_url.starts_with("https://")
}

fn set_cookie(res: &mut Response, core: &Core, name: &str, value: &str, max_age_s: i64) {
    let mut cookie = format!("{name}={value}; Path=/; Max-Age={max_age_s}; HttpOnly; SameSite=Lax");
    if secure(core) {
        cookie.push_str("; Secure");
    }
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn clear_cookie(res: &mut Response, core: &Core, name: &str) {
    set_cookie(res, core, name, "", 0);
}

/// The authorization parameters of the query string.
fn query_params(uri: &Uri) -> Result<AuthorizeParams, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or_default())
        .map_err(|_| "The sign-in request is malformed.".to_owned())?;
    AuthorizeParams::from_pairs(&pairs)
}

/// Parses and checks an authorization request; the Err is the page or redirect to answer.
async fn checked(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<ValidAuthorize, Response> {
    let params = query_params(uri).map_err(|why| error_page(400, &why))?;
    let pool = host_pool(&state.core, headers)
        .await
        .map_err(|e| internal_page(&e))?;
    authorize::validate(&state.core, &params, pool.as_deref())
        .await
        .map_err(|e| match e {
            AuthorizeError::Page { status, message } => error_page(status, &message),
            AuthorizeError::Redirect { location } => redirect(&location),
        })
}

fn login_action(valid: &ValidAuthorize) -> String {
    let query = serde_urlencoded::to_string(&valid.params).unwrap_or_default();
    format!("/login?{query}")
}

fn session_from(core: &Core, headers: &HeaderMap) -> Option<UiSession> {
    cookie_value(headers, SESSION_COOKIE).and_then(|v| hosted::open_cookie(core, "session", v))
}

/// `GET /oauth2/authorize`: answers at once from a hosted-UI session, else sends the browser
/// to the sign-in page with the same parameters.
async fn authorize_page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let valid = match checked(&state, &uri, &headers).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if !valid.force_login
        && let Some(session) = session_from(&state.core, &headers)
    {
        match hosted::resume(&state.core, &valid, &session).await {
            Ok(Some(location)) => return redirect(&location),
            Ok(None) => {}
            Err(e) => return internal_page(&e),
        }
    }
    if valid.no_prompt {
        return redirect(&valid.error_location("login_required", "The user is not signed in"));
    }
    redirect(&login_action(&valid))
}

/// Renders the sign-in form with a fresh anti-forgery token.
async fn login_form(
    core: &Core,
    valid: &ValidAuthorize,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> Response {
    login_form_with_notice(core, valid, status, username, error, None).await
}

/// A link to another hosted page, with the same authorization parameters.
struct Link {
    href: String,
    text: &'static str,
}

fn page_url(path: &str, valid: &ValidAuthorize) -> String {
    let query = serde_urlencoded::to_string(&valid.params).unwrap_or_default();
    format!("{path}?{query}")
}

fn login_links(valid: &ValidAuthorize) -> Vec<Link> {
    let mut links = vec![Link {
        href: page_url("/forgotPassword", valid),
        text: "Forgot your password?",
    }];
    if hosted::self_sign_up_allowed(valid) {
        links.push(Link {
            href: page_url("/signup", valid),
            text: "Need an account? Sign up",
        });
    }
    links
}

async fn login_form_with_notice(
    core: &Core,
    valid: &ValidAuthorize,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let csrf = CsrfToken::new(core);
    let sealed = match hosted::seal_cookie(core, "csrf", &csrf) {
        Ok(s) => s,
        Err(e) => return internal_page(&e),
    };
    let action = login_action(valid);
    let brand = branding(core, valid).await;
    let links = login_links(valid);
    let mut res = html(
        status,
        LoginTemplate {
            branding: &brand,
            action: &action,
            csrf: &csrf.token,
            username,
            error,
            notice,
            links: &links,
        }
        .render(),
        &format!("'self'{}", form_action_source(&valid.redirect_uri)),
    );
    set_cookie(
        &mut res,
        core,
        CSRF_COOKIE,
        &sealed,
        hosted::CSRF_TTL_MS / 1000,
    );
    res
}

struct NewPasswordForm<'a> {
    session: &'a str,
    username: &'a str,
    required_attributes: &'a [String],
}

async fn new_password_form(
    core: &Core,
    valid: &ValidAuthorize,
    status: StatusCode,
    form: &NewPasswordForm<'_>,
    error: Option<&str>,
) -> Response {
    let csrf = CsrfToken::new(core);
    let sealed = match hosted::seal_cookie(core, "csrf", &csrf) {
        Ok(s) => s,
        Err(e) => return internal_page(&e),
    };
    let action = login_action(valid);
    let brand = branding(core, valid).await;
    let mut res = html(
        status,
        NewPasswordTemplate {
            branding: &brand,
            action: &action,
            csrf: &csrf.token,
            session: form.session,
            username: form.username,
            required_attributes: form.required_attributes,
            error,
        }
        .render(),
        &format!("'self'{}", form_action_source(&valid.redirect_uri)),
    );
    set_cookie(
        &mut res,
        core,
        CSRF_COOKIE,
        &sealed,
        hosted::CSRF_TTL_MS / 1000,
    );
    res
}

/// `GET /login`: the sign-in form.
async fn login_page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let valid = match checked(&state, &uri, &headers).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if valid.no_prompt {
        return redirect(&valid.error_location("login_required", "The user is not signed in"));
    }
    login_form(&state.core, &valid, StatusCode::OK, "", None).await
}

fn signed_in(core: &Core, location: &str, session: &UiSession) -> Response {
    let mut res = redirect(location);
    match hosted::seal_cookie(core, "session", session) {
        Ok(sealed) => set_cookie(
            &mut res,
            core,
            SESSION_COOKIE,
            &sealed,
            hosted::SESSION_TTL_MS / 1000,
        ),
        Err(e) => return internal_page(&e),
    }
    clear_cookie(&mut res, core, CSRF_COOKIE);
    res
}

/// Errors a person can act on are shown on the form; our own failures are not detailed.
fn user_message(e: &ApiError) -> Option<&str> {
    (e.code != ErrorCode::InternalErrorException).then_some(e.message.as_str())
}

/// `POST /login`: the sign-in form, or the new-password form, submitted.
async fn login_submit(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let core = &state.core;
    let valid = match checked(&state, &uri, &headers).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let form = match read_form(&headers, body, MAX_LOGIN_FORM_BYTES).await {
        Ok(pairs) => match unique(pairs) {
            Ok(map) => map,
            Err(_) => return error_page(400, "The form was sent with a repeated field."),
        },
        Err(FormError::TooLarge) => {
            return error_page(413, "The form is larger than a sign-in form can be.");
        }
        Err(_) => return error_page(400, "The form could not be read."),
    };
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let csrf_ok = cookie_value(&headers, CSRF_COOKIE)
        .and_then(|v| hosted::open_cookie::<CsrfToken>(core, "csrf", v))
        .is_some_and(|t| t.accepts(core, field("_csrf")));
    if !csrf_ok {
        let back = login_action(&valid);
        return message_page(
            StatusCode::FORBIDDEN,
            "Sign-in form expired",
            "This form has expired or was not sent from this site. Reload the sign-in page and try again.",
            Some(&back),
        );
    }
    if field("_step") == "new_password" {
        let attributes: BTreeMap<String, String> = form
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("attr.").map(|n| (n.to_owned(), v.clone())))
            .collect();
        // Re-shown on an error: the fields the form asked for, never names a post made up.
        let required = hosted::new_password_fields(core, &valid, field("username"))
            .await
            .unwrap_or_default();
        let outcome = hosted::new_password(
            core,
            &valid,
            field("session"),
            field("username"),
            field("new_password"),
            &attributes,
        )
        .await;
        return match outcome {
            Ok(LoginOutcome::SignedIn { location, session }) => {
                signed_in(core, &location, &session)
            }
            Ok(LoginOutcome::NewPasswordRequired { .. }) => {
                error_page(500, "The new password could not be set.")
            }
            Err(e) if e.code == ErrorCode::NotAuthorizedException => {
                login_form(
                    core,
                    &valid,
                    StatusCode::BAD_REQUEST,
                    field("username"),
                    Some("The sign-in took too long. Sign in again with your temporary password."),
                )
                .await
            }
            Err(e) => match user_message(&e) {
                Some(message) => {
                    new_password_form(
                        core,
                        &valid,
                        StatusCode::BAD_REQUEST,
                        &NewPasswordForm {
                            session: field("session"),
                            username: field("username"),
                            required_attributes: &required,
                        },
                        Some(message),
                    )
                    .await
                }
                None => internal_page(&e),
            },
        };
    }
    let username = field("username");
    match hosted::password_login(core, &valid, username, field("password")).await {
        Ok(LoginOutcome::SignedIn { location, session }) => signed_in(core, &location, &session),
        Ok(LoginOutcome::NewPasswordRequired {
            session,
            username,
            required_attributes,
        }) => {
            new_password_form(
                core,
                &valid,
                StatusCode::OK,
                &NewPasswordForm {
                    session: &session,
                    username: &username,
                    required_attributes: &required_attributes,
                },
                None,
            )
            .await
        }
        Err(e) => match user_message(&e) {
            Some(message) => {
                login_form(
                    core,
                    &valid,
                    StatusCode::BAD_REQUEST,
                    username,
                    Some(message),
                )
                .await
            }
            None => internal_page(&e),
        },
    }
}

/// `GET /logout`: ends the hosted-UI session. With `logout_uri` (which must be one of the
/// client's LogoutURLs, exactly) the browser goes there; with `redirect_uri` and
/// `response_type` it goes to sign in again.
async fn logout(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let core = &state.core;
    let pairs: Vec<(String, String)> = match serde_urlencoded::from_str::<Vec<(String, String)>>(
        uri.query().unwrap_or_default(),
    ) {
        Ok(p) if !crate::oauth::has_nul(&p) => p,
        _ => return error_page(400, "The sign-out request is malformed."),
    };
    let params = match unique(pairs) {
        Ok(p) => p,
        Err(name) => {
            return error_page(
                400,
                &format!("The parameter {name} was given more than once."),
            );
        }
    };
    let Some(client_id) = params.get("client_id").filter(|c| !c.is_empty()) else {
        return error_page(400, "The sign-out request has no client_id.");
    };
    let pool = match host_pool(core, &headers).await {
        Ok(p) => p,
        Err(e) => return internal_page(&e),
    };
    let client = match portcullis_core::service::find_client(core, client_id).await {
        Ok(Some(c)) if pool.as_deref().is_none_or(|p| p == c.pool_id) => c,
        Ok(_) => return error_page(400, "The sign-out request names an unknown app client."),
        Err(e) => return internal_page(&e),
    };
    let mut res = if let Some(logout_uri) = params.get("logout_uri") {
        let registered = client
            .settings
            .logout_urls
            .iter()
            .flatten()
            .any(|u| u == logout_uri);
        if !registered {
            return error_page(
                400,
                "The logout_uri of this sign-out request is not registered for the app client.",
            );
        }
        redirect(logout_uri)
    } else if params.contains_key("redirect_uri") {
        match checked(&state, &uri, &headers).await {
            Ok(valid) => redirect(&login_action(&valid)),
            Err(res) => return res,
        }
    } else {
        message_page(
            StatusCode::OK,
            "Signed out",
            "You have been signed out.",
            None,
        )
    };
    // Ended in the store too, so a copy of the cookie stops working.
    if let Some(session) = session_from(core, &headers)
        && let Err(e) = hosted::end_session(core, &session).await
    {
        return internal_page(&e);
    }
    clear_cookie(&mut res, core, SESSION_COOKIE);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_action_sources() {
        assert_eq!(
            form_action_source("https://app.example.com:8443/cb?x=1"),
            " https://app.example.com:8443"
        );
        assert_eq!(form_action_source("myapp://callback"), " myapp:");
        assert_eq!(form_action_source("nonsense"), "");
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; portcullis-csrf=xyz; portcullis-csrf2=no"),
        );
        assert_eq!(cookie_value(&h, CSRF_COOKIE), Some("xyz"));
        assert_eq!(cookie_value(&h, "missing"), None);
    }

    #[test]
    fn templates_escape() {
        let out = LoginTemplate {
            branding: &Branding::default(),
            action: "/login?a=1&b=<x>",
            csrf: "t",
            username: "\"><script>alert(1)</script>",
            error: Some("<b>bad</b>"),
            notice: None,
            links: &[],
        }
        .render()
        .unwrap_or_default();
        assert!(!out.contains("<script>"), "{out}");
        assert!(!out.contains("<b>bad"), "{out}");
        assert!(out.contains("&#38;b="), "{out}");
        assert!(out.contains("for=\"username\""));
    }
}
