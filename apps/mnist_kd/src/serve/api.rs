//! The page's JSON API, as plain functions from a request to a reply: the server loop (`mod.rs`)
//! only moves bytes, so everything a request can get wrong is answered, and tested, here.
//!
//! | request | reply |
//! |---|---|
//! | `GET /` (and `/app.js`, `/style.css`) | the page |
//! | `GET /models` | the run: each model's id, role, description, parameters and test accuracy; the students' pairs and how often each pair disagrees on the test set |
//! | `POST /predict` `{"pixels": [784 numbers in [0, 1]], "models": ["teacher", …]}` | `{"models": [{"id", "logits": [10 numbers]}], "microseconds"}`; without `"models"`, every model |
//! | `GET /disagreements?pair=P&offset=O&limit=L` | test images where pair `P`'s two students disagree: index, label, pixels (0–255) and the teacher's, the alone's and the distilled's logits |
//!
//! A bad request gets a 4xx status and `{"error": "…"}` saying what was expected and what was
//! found; nothing about it reaches a model.

use std::time::Instant;

use serde_json::{json, Value};

use super::disagreements::Disagreements;
use super::models::{Loaded, RunModels, PIXELS, SIDE};

/// The largest body a request may have. 784 numbers written out in full take about 16 KiB.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The most test images one `/disagreements` reply holds.
const PAGE_LIMIT: usize = 100;

const INDEX_HTML: &str = include_str!("page/index.html");
const APP_JS: &str = include_str!("page/app.js");
const STYLE_CSS: &str = include_str!("page/style.css");

/// What every thread answering requests shares: the run, and the second view's data (or why it
/// could not be made).
pub struct Shared {
    pub run: RunModels,
    pub browser: Result<Disagreements, String>,
}

/// A reply: status, content type, body, and for a wrong method the methods the path allows.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub allow: Option<&'static str>,
}

impl Reply {
    fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: value.to_string().into_bytes(),
            allow: None,
        }
    }

    pub fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply::json(status, &json!({ "error": message.into() }))
    }

    fn text(content_type: &'static str, body: &str) -> Reply {
        Reply {
            status: 200,
            content_type,
            body: body.as_bytes().to_vec(),
            allow: None,
        }
    }

    /// The reply to a body longer than [`BODY_LIMIT`] (the server stops reading it there).
    pub fn too_large() -> Reply {
        Reply::error(
            413,
            format!("expected a body of at most {BODY_LIMIT} bytes, found more"),
        )
    }
}

/// Answers one request. `url` is the path with its query; `body` the whole body (at most
/// [`BODY_LIMIT`] bytes: the server answers a longer one with [`Reply::too_large`]).
pub fn respond(
    shared: &Shared,
    loaded: &mut Loaded,
    method: &str,
    url: &str,
    body: &[u8],
) -> Reply {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let allowed = match path {
        "/" | "/index.html" | "/app.js" | "/style.css" | "/models" | "/disagreements" => "GET",
        "/predict" => "POST",
        _ => {
            return Reply::error(
                404,
                format!(
                    "no such path {path:?}: expected /, /models, /predict or /disagreements \
                     (docs/serve.md)"
                ),
            )
        }
    };
    if method != allowed {
        return Reply {
            allow: Some(allowed),
            ..Reply::error(
                405,
                format!("{path} takes {allowed} requests, found {method}"),
            )
        };
    }
    match path {
        "/" | "/index.html" => Reply::text("text/html; charset=utf-8", INDEX_HTML),
        "/app.js" => Reply::text("text/javascript; charset=utf-8", APP_JS),
        "/style.css" => Reply::text("text/css; charset=utf-8", STYLE_CSS),
        "/models" => Reply::json(200, &models(shared)),
        "/predict" => predict(&shared.run, loaded, body),
        _ => disagreements(shared, query),
    }
}

/// `GET /models`.
fn models(shared: &Shared) -> Value {
    let run = &shared.run;
    let models: Vec<Value> = run
        .models
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "role": m.role.name(),
                "spec": m.spec.to_string(),
                "parameters": m.parameters,
                "test_accuracy": m.test_accuracy,
            })
        })
        .collect();
    let (classes, pairs, test_images, browser_error) = match &shared.browser {
        Ok(b) => {
            let pairs: Vec<Value> = b
                .pairs
                .iter()
                .map(|p| {
                    json!({
                        "spec": p.spec,
                        "alone": run.models[p.alone].id,
                        "distilled": run.models[p.distilled].id,
                        "disagreements": p.disagreements.len(),
                    })
                })
                .collect();
            (b.test.class_names.clone(), pairs, b.test.len(), None)
        }
        Err(e) => (
            (0..run.classes()).map(|c| c.to_string()).collect(),
            Vec::new(),
            0,
            Some(e.clone()),
        ),
    };
    json!({
        "run": run.dir.display().to_string(),
        "image_side": SIDE,
        "classes": classes,
        "distilled_at_temperature": run.temperature,
        "teachers_in_ensemble": run.teachers_in_ensemble,
        "models": models,
        "pairs": pairs,
        "test_images": test_images,
        "browser_error": browser_error,
    })
}

/// `POST /predict`.
fn predict(run: &RunModels, loaded: &mut Loaded, body: &[u8]) -> Reply {
    let (pixels, chosen) = match parse_predict(run, body) {
        Ok(request) => request,
        Err((status, message)) => return Reply::error(status, message),
    };
    let started = Instant::now();
    let answers: Vec<Value> = chosen
        .iter()
        .map(|&index| {
            let info = &run.models[index];
            let logits = loaded.logits(info, index, &pixels);
            json!({ "id": info.id, "logits": logits.data() })
        })
        .collect();
    let microseconds = started.elapsed().as_micros() as u64;
    Reply::json(
        200,
        &json!({ "models": answers, "microseconds": microseconds }),
    )
}

/// A `/predict` body: its pixels, and the indices of the models asked for (all if none named).
/// An error is a status and a message.
fn parse_predict(run: &RunModels, body: &[u8]) -> Result<(Vec<f32>, Vec<usize>), (u16, String)> {
    let bad = |message: String| (400, message);
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| bad(format!("expected a JSON body, found one that is not: {e}")))?;
    let pixels = value.get("pixels").ok_or_else(|| {
        bad(format!(
            "expected an object with \"pixels\": {PIXELS} numbers in [0, 1], found {}",
            kind(&value)
        ))
    })?;
    let pixels = pixels.as_array().ok_or_else(|| {
        bad(format!(
            "\"pixels\": expected an array of {PIXELS} numbers, found {}",
            kind(pixels)
        ))
    })?;
    if pixels.len() != PIXELS {
        return Err(bad(format!(
            "\"pixels\": expected {PIXELS} values ({SIDE} × {SIDE}, row by row), found {}",
            pixels.len()
        )));
    }
    let pixels = pixels
        .iter()
        .enumerate()
        .map(|(i, p)| match p.as_f64() {
            Some(x) if (0.0..=1.0).contains(&x) => Ok(x as f32),
            _ => Err(bad(format!(
                "\"pixels\"[{i}]: expected a number in [0, 1] (ink 1, background 0), found {p}"
            ))),
        })
        .collect::<Result<Vec<f32>, _>>()?;
    let chosen = match value.get("models") {
        None | Some(Value::Null) => (0..run.models.len()).collect(),
        Some(Value::Array(ids)) if ids.is_empty() => {
            return Err(bad(
                "\"models\": expected at least one model id (or no \"models\" for all), \
                 found an empty list"
                    .into(),
            ))
        }
        Some(Value::Array(ids)) => ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                // Each model at most once: a list of one id repeated would run it again and again.
                if ids[..i].contains(id) {
                    return Err(bad(format!(
                        "\"models\": expected each model once, found {id} again"
                    )));
                }
                let name = id.as_str().ok_or_else(|| {
                    bad(format!(
                        "\"models\": expected model ids (strings), found {id}"
                    ))
                })?;
                run.find(name).ok_or_else(|| {
                    let known: Vec<&str> = run.models.iter().map(|m| m.id.as_str()).collect();
                    (
                        404,
                        format!(
                            "\"models\": no model {name:?} in this run; expected one of {}",
                            known.join(", ")
                        ),
                    )
                })
            })
            .collect::<Result<Vec<usize>, _>>()?,
        Some(other) => {
            return Err(bad(format!(
                "\"models\": expected an array of model ids, found {}",
                kind(other)
            )))
        }
    };
    Ok((pixels, chosen))
}

/// A JSON value's kind, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object without it",
    }
}

/// `GET /disagreements?pair=P&offset=O&limit=L`.
fn disagreements(shared: &Shared, query: &str) -> Reply {
    let browser = match &shared.browser {
        Ok(b) => b,
        Err(e) => return Reply::error(404, format!("no test images to browse: {e}")),
    };
    let param = |name: &str, default: Option<usize>| -> Result<usize, String> {
        let given = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v);
        match (given, default) {
            (Some(v), _) => v.parse().map_err(|_| {
                let max = usize::MAX;
                format!("{name}: expected a whole number from 0 to {max}, found {v:?}")
            }),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(format!("expected the parameter {name}, found none")),
        }
    };
    let (pair, offset, limit) = match (
        param("pair", None),
        param("offset", Some(0)),
        param("limit", Some(24)),
    ) {
        (Ok(p), Ok(o), Ok(l)) => (p, o, l),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Reply::error(400, e),
    };
    let Some(p) = browser.pairs.get(pair) else {
        return Reply::error(
            404,
            format!(
                "pair: expected a number below {} (the run's students), found {pair}",
                browser.pairs.len()
            ),
        );
    };
    if limit == 0 || limit > PAGE_LIMIT {
        return Reply::error(
            400,
            format!("limit: expected 1 to {PAGE_LIMIT}, found {limit}"),
        );
    }
    let run = &shared.run;
    let images: Vec<Value> = p
        .disagreements
        .iter()
        .skip(offset)
        .take(limit)
        .map(|&i| {
            let pixels: Vec<u8> = browser
                .test
                .image(i)
                .iter()
                .map(|&x| (x * 255.0).round() as u8)
                .collect();
            json!({
                "index": i,
                "label": browser.test.labels[i],
                "pixels": pixels,
                "teacher": browser.logits_of(0, i),
                "alone": browser.logits_of(p.alone, i),
                "distilled": browser.logits_of(p.distilled, i),
            })
        })
        .collect();
    Reply::json(
        200,
        &json!({
            "spec": p.spec,
            "alone": run.models[p.alone].id,
            "distilled": run.models[p.distilled].id,
            "total": p.disagreements.len(),
            "offset": offset,
            "images": images,
        }),
    )
}
