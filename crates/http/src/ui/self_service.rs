//! The self-service pages: `/signup`, `/confirm` (the code sent at sign-up),
//! `/forgotPassword` and `/confirmForgotPassword`. They carry the authorization request's
//! parameters along, so that after them the person signs in and returns to the app.

use std::collections::BTreeMap;

use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use portcullis_core::service::oauth::authorize::ValidAuthorize;
use portcullis_core::service::oauth::hosted::{self, CsrfToken, SignUpOutcome};
use portcullis_core::{Core, ErrorCode};

use super::{
    Branding, CSRF_COOKIE, Link, MAX_LOGIN_FORM_BYTES, branding, checked, cookie_value, error_page,
    form_action_source, html, internal_page, login_form_with_notice, message_page, page_url,
    set_cookie, user_message,
};
use crate::AppState;
use crate::oauth::{FormError, read_form, unique};

/// One input of a generic form.
pub(super) struct Field {
    id: String,
    name: String,
    label: String,
    kind: &'static str,
    value: String,
    autocomplete: &'static str,
    required: bool,
}

impl Field {
    fn new(name: &str, label: &str, kind: &'static str, autocomplete: &'static str) -> Self {
        Field {
            id: name.replace(['.', ':'], "-"),
            name: name.to_owned(),
            label: label.to_owned(),
            kind,
            value: String::new(),
            autocomplete,
            required: true,
        }
    }
    fn value(mut self, v: &str) -> Self {
        self.value = v.to_owned();
        self
    }
    fn hidden(name: &str, value: &str) -> Self {
        Field::new(name, "", "hidden", "off").value(value)
    }
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormTemplate<'a> {
    branding: &'a Branding,
    title: &'a str,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    action: &'a str,
    csrf: &'a str,
    fields: &'a [Field],
    submit: &'a str,
    links: &'a [Link],
}

struct FormPage<'a> {
    title: &'a str,
    path: &'a str,
    fields: Vec<Field>,
    submit: &'a str,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

async fn render(
    core: &Core,
    valid: &ValidAuthorize,
    status: StatusCode,
    page: FormPage<'_>,
) -> Response {
    let csrf = CsrfToken::new(core);
    let sealed = match hosted::seal_cookie(core, "csrf", &csrf) {
        Ok(s) => s,
        Err(e) => return internal_page(&e),
    };
    let brand = branding(core, valid).await;
    let action = page_url(page.path, valid);
    let links = [Link {
        href: page_url("/login", valid),
        text: "Back to sign in",
    }];
    let mut res = html(
        status,
        FormTemplate {
            branding: &brand,
            title: page.title,
            notice: page.notice,
            error: page.error,
            action: &action,
            csrf: &csrf.token,
            fields: &page.fields,
            submit: page.submit,
            links: &links,
        }
        .render(),
        // These forms post back here; the next step is the sign-in page, also here.
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

/// Reads a posted form and checks its anti-forgery token.
async fn checked_form(
    core: &Core,
    valid: &ValidAuthorize,
    path: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<BTreeMap<String, String>, Response> {
    let form = match read_form(headers, body, MAX_LOGIN_FORM_BYTES).await {
        Ok(pairs) => unique(pairs)
            .map_err(|_| error_page(400, "The form was sent with a repeated field."))?,
        Err(FormError::TooLarge) => {
            return Err(error_page(413, "The form is larger than it can be."));
        }
        Err(_) => return Err(error_page(400, "The form could not be read.")),
    };
    let given = form.get("_csrf").map(String::as_str).unwrap_or_default();
    let ok = cookie_value(headers, CSRF_COOKIE)
        .and_then(|v| hosted::open_cookie::<CsrfToken>(core, "csrf", v))
        .is_some_and(|t| t.accepts(core, given));
    if !ok {
        let back = page_url(path, valid);
        return Err(message_page(
            StatusCode::FORBIDDEN,
            "Form expired",
            "This form has expired or was not sent from this site. Reload the page and try again.",
            Some(&back),
        ));
    }
    Ok(form)
}

fn field<'a>(form: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or_default()
}

fn attribute_label(name: &str) -> String {
    match name {
        "email" => "Email address".to_owned(),
        "phone_number" => "Phone number (+ and country code)".to_owned(),
        "given_name" => "Given name".to_owned(),
        "family_name" => "Family name".to_owned(),
        "preferred_username" => "Preferred username".to_owned(),
        other => {
            let plain = other.trim_start_matches("custom:").replace('_', " ");
            let mut chars = plain.chars();
            match chars.next() {
                Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
                None => String::new(),
            }
        }
    }
}

fn attribute_input(name: &str) -> (&'static str, &'static str) {
    match name {
        "email" => ("email", "email"),
        "phone_number" => ("tel", "tel"),
        "name" => ("text", "name"),
        "given_name" => ("text", "given-name"),
        "family_name" => ("text", "family-name"),
        _ => ("text", "off"),
    }
}

fn signup_fields(valid: &ValidAuthorize, form: Option<&BTreeMap<String, String>>) -> Vec<Field> {
    let username_is = valid
        .ctx
        .pool
        .settings
        .username_attributes
        .clone()
        .unwrap_or_default();
    let (label, kind, autocomplete) = if username_is.iter().any(|a| a == "email") {
        ("Email address", "email", "email")
    } else if username_is.iter().any(|a| a == "phone_number") {
        ("Phone number (+ and country code)", "tel", "tel")
    } else {
        ("Username", "text", "username")
    };
    let keep = |name: &str| form.map(|f| field(f, name)).unwrap_or_default();
    let mut fields =
        vec![Field::new("username", label, kind, autocomplete).value(keep("username"))];
    for attr in hosted::sign_up_attributes(valid) {
        let (kind, autocomplete) = attribute_input(&attr);
        let name = format!("attr.{attr}");
        let value = keep(&name).to_owned();
        fields.push(Field::new(&name, &attribute_label(&attr), kind, autocomplete).value(&value));
    }
    fields.push(Field::new(
        "password",
        "Password",
        "password",
        "new-password",
    ));
    fields
}

async fn signup_form(
    core: &Core,
    valid: &ValidAuthorize,
    status: StatusCode,
    form: Option<&BTreeMap<String, String>>,
    error: Option<&str>,
) -> Response {
    render(
        core,
        valid,
        status,
        FormPage {
            title: "Sign up",
            path: "/signup",
            fields: signup_fields(valid, form),
            submit: "Sign up",
            notice: None,
            error,
        },
    )
    .await
}

async fn confirm_form(
    core: &Core,
    valid: &ValidAuthorize,
    status: StatusCode,
    username: &str,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    render(
        core,
        valid,
        status,
        FormPage {
            title: "Confirm your account",
            path: "/confirm",
            fields: vec![
                Field::new("username", "Username", "text", "username").value(username),
                Field::new("code", "Confirmation code", "text", "one-time-code"),
            ],
            submit: "Confirm",
            notice,
            error,
        },
    )
    .await
}

async fn reset_form(
    core: &Core,
    valid: &ValidAuthorize,
    status: StatusCode,
    username: &str,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    render(
        core,
        valid,
        status,
        FormPage {
            title: "Reset your password",
            path: "/confirmForgotPassword",
            fields: vec![
                Field::hidden("username", username),
                Field::new("code", "Code", "text", "one-time-code"),
                Field::new("password", "New password", "password", "new-password"),
            ],
            submit: "Change password",
            notice,
            error,
        },
    )
    .await
}

fn sign_up_closed() -> Response {
    error_page(
        403,
        "Sign-up is not available here. Ask an administrator for an account.",
    )
}

/// `GET /signup`.
pub(super) async fn signup_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let valid = match checked(&state, &uri, &headers).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if !hosted::self_sign_up_allowed(&valid) {
        return sign_up_closed();
    }
    signup_form(&state.core, &valid, StatusCode::OK, None, None).await
}

/// `POST /signup`.
pub(super) async fn signup_submit(
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
    if !hosted::self_sign_up_allowed(&valid) {
        return sign_up_closed();
    }
    let form = match checked_form(core, &valid, "/signup", &headers, body).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let attributes: BTreeMap<String, String> = hosted::sign_up_attributes(&valid)
        .into_iter()
        .map(|a| {
            let v = field(&form, &format!("attr.{a}")).to_owned();
            (a, v)
        })
        .collect();
    let username = field(&form, "username");
    match hosted::sign_up(
        core,
        &valid,
        username,
        field(&form, "password"),
        &attributes,
    )
    .await
    {
        Ok(SignUpOutcome::Confirmed) => {
            login_form_with_notice(
                core,
                &valid,
                StatusCode::OK,
                username,
                None,
                Some("Your account is ready. Sign in."),
            )
            .await
        }
        Ok(SignUpOutcome::NeedsConfirmation { destination }) => {
            let notice = match destination {
                Some(d) => format!("We sent a confirmation code to {d}. Enter it below."),
                None => "Enter the confirmation code you were sent.".to_owned(),
            };
            confirm_form(core, &valid, StatusCode::OK, username, Some(&notice), None).await
        }
        Err(e) => match user_message(&e) {
            Some(m) => {
                signup_form(core, &valid, StatusCode::BAD_REQUEST, Some(&form), Some(m)).await
            }
            None => internal_page(&e),
        },
    }
}

/// `GET /confirm`: the code sent at sign-up.
pub(super) async fn confirm_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let valid = match checked(&state, &uri, &headers).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    confirm_form(&state.core, &valid, StatusCode::OK, "", None, None).await
}

/// `POST /confirm`.
pub(super) async fn confirm_submit(
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
    let form = match checked_form(core, &valid, "/confirm", &headers, body).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let username = field(&form, "username");
    match hosted::confirm_sign_up(core, &valid, username, field(&form, "code")).await {
        Ok(()) => {
            login_form_with_notice(
                core,
                &valid,
                StatusCode::OK,
                username,
                None,
                Some("Your account is confirmed. Sign in."),
            )
            .await
        }
        Err(e) => match user_message(&e) {
            Some(m) => {
                confirm_form(
                    core,
                    &valid,
                    StatusCode::BAD_REQUEST,
                    username,
                    None,
                    Some(m),
                )
                .await
            }
            None => internal_page(&e),
        },
    }
}

/// `GET /forgotPassword`.
pub(super) async fn forgot_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let valid = match checked(&state, &uri, &headers).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    forgot_form(&state.core, &valid, StatusCode::OK, None).await
}

async fn forgot_form(
    core: &Core,
    valid: &ValidAuthorize,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    render(
        core,
        valid,
        status,
        FormPage {
            title: "Forgot your password?",
            path: "/forgotPassword",
            fields: vec![Field::new("username", "Username", "text", "username")],
            submit: "Send a reset code",
            notice: Some("Enter your username and we will send you a code to reset your password."),
            error,
        },
    )
    .await
}

/// `POST /forgotPassword`. Whether the account exists is not revealed, under either
/// PreventUserExistenceErrors setting: every name, known, unknown, disabled or without a
/// verified channel, gets the same notice and no destination.
pub(super) async fn forgot_submit(
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
    let form = match checked_form(core, &valid, "/forgotPassword", &headers, body).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let username = field(&form, "username");
    let generic = "If the account exists, a code is on its way. Enter it below.";
    match hosted::forgot_password(core, &valid, username).await {
        Ok(()) => reset_form(core, &valid, StatusCode::OK, username, Some(generic), None).await,
        Err(e) => match user_message(&e) {
            Some(m) => forgot_form(core, &valid, StatusCode::BAD_REQUEST, Some(m)).await,
            None => internal_page(&e),
        },
    }
}

/// `POST /confirmForgotPassword`: the code and the new password.
pub(super) async fn reset_submit(
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
    let form = match checked_form(core, &valid, "/forgotPassword", &headers, body).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let username = field(&form, "username");
    let result = hosted::confirm_forgot_password(
        core,
        &valid,
        username,
        field(&form, "code"),
        field(&form, "password"),
    )
    .await;
    match result {
        Ok(()) => {
            login_form_with_notice(
                core,
                &valid,
                StatusCode::OK,
                username,
                None,
                Some("Your password has been changed. Sign in with the new one."),
            )
            .await
        }
        // A wrong, expired or unrequested code, and a name nobody holds, read alike.
        Err(e)
            if matches!(
                e.code,
                ErrorCode::UserNotFoundException
                    | ErrorCode::CodeMismatchException
                    | ErrorCode::ExpiredCodeException
            ) =>
        {
            reset_form(
                core,
                &valid,
                StatusCode::BAD_REQUEST,
                username,
                None,
                Some("The code is wrong or has expired. Check it, or request a new one."),
            )
            .await
        }
        Err(e) => match user_message(&e) {
            Some(m) => {
                reset_form(
                    core,
                    &valid,
                    StatusCode::BAD_REQUEST,
                    username,
                    None,
                    Some(m),
                )
                .await
            }
            None => internal_page(&e),
        },
    }
}
