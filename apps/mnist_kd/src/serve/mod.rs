//! `mnist_kd serve`: a local page on which a person draws a digit and watches the teacher, each
//! student trained alone and the same student distilled answer it, at any temperature; and a
//! second view that browses the test images on which the two students disagree.
//!
//! The server is axum, on a single-threaded tokio runtime, in front of a few ordinary threads
//! that each own a copy of the models (a model is single-threaded, see `models.rs`): axum does
//! the HTTP that is easy to get wrong — body limits, slow or broken clients, keep-alive — without
//! holding up a model, and hands each whole request to whichever model thread is free.
//!
//! Reading order: `models.rs` (the run's checkpoints), `disagreements.rs` (the second view's
//! data), `api.rs` (every request and reply), then this file (sockets and threads), then
//! `page/app.js` (the drawing, MNIST's preprocessing, the temperature). docs/serve.md has the API.

mod api;
mod disagreements;
mod models;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use clap::Parser;
use tokio::sync::oneshot;

use api::{Reply, Shared, BODY_LIMIT};
use disagreements::{Disagreements, TestImages};
use models::RunModels;

/// `mnist_kd serve [--run DIR] [--port N]`.
#[derive(Parser, Debug)]
#[command(
    name = "mnist_kd serve",
    bin_name = "mnist_kd serve",
    about = "A local page: draw a digit and see the teacher, each student alone and each \
             student distilled answer it, at a temperature of your choice; and browse the test \
             images on which a student alone and distilled disagree. The models are those a \
             run of mnist_kd saved."
)]
pub struct ServeArgs {
    /// The run folder whose checkpoints the page shows (what `mnist_kd --out` wrote).
    #[arg(long, default_value = "runs/default")]
    run: PathBuf,
    /// The port to listen on (0: any free port; the address is printed).
    #[arg(long, default_value_t = 7878)]
    port: u16,
    /// The address to listen on. The page is for this machine, so only 127.0.0.1 unless another
    /// address is given here (0.0.0.0 lets anyone on the network in).
    #[arg(long, default_value = "127.0.0.1")]
    address: IpAddr,
    /// The IDX set whose test images the second view browses (default: the data the run was
    /// trained on, as its results.json records, else data/mnist).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Threads running the models, each with its own copy of them.
    #[arg(long, default_value_t = 4)]
    workers: usize,
}

/// Runs `mnist_kd serve` with `args` (the program's arguments after `serve`'s position).
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let args = ServeArgs::parse_from(args);
    match serve(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// One request, handed from the HTTP side to a model thread, and where its reply goes.
struct Job {
    method: String,
    url: String,
    body: Vec<u8>,
    reply: oneshot::Sender<Reply>,
}

fn serve(args: &ServeArgs) -> Result<(), String> {
    if args.workers == 0 {
        return Err("--workers: expected at least 1, found 0".into());
    }
    let run = RunModels::open(&args.run)?;
    let data_dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => run
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("data/mnist")),
    };
    if let (Some(given), Some(trained_on)) = (&args.data_dir, &run.data_dir) {
        if given != trained_on {
            eprintln!(
                "note: the run was trained on {}, and the page browses the test images of {}",
                trained_on.display(),
                given.display()
            );
        }
    }
    // Every model thread's copy, and the second view's pass over the test set, are made before
    // the server listens: a model that does not load stops it here, with its message.
    let mut loaded = run.load()?;
    // The second view is a bonus: without test images the drawing view still works, and the
    // page says why there is nothing to browse.
    let browser = TestImages::read(&data_dir, run.classes())
        .map(|test| Disagreements::find(&run, &mut loaded, test));
    if let Err(e) = &browser {
        eprintln!("note: the page will have no test images to browse: {e}");
    }
    let shared = Arc::new(Shared { run, browser });
    let jobs = start_model_threads(&shared, args.workers)?;

    let address = SocketAddr::new(args.address, args.port);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| format!("cannot start the server's runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| format!("cannot listen on {address}: {e}"))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        if !args.address.is_loopback() {
            eprintln!(
                "note: listening on {}, not only on this machine: anyone who can reach it can \
                 use the page",
                args.address
            );
        }
        println!(
            "mnist_kd serve: {} models of {} at http://{bound}/ (Ctrl-C stops)",
            shared.run.models.len(),
            shared.run.dir.display()
        );
        // The tests read the address from this line: make sure it is out before any request.
        std::io::Write::flush(&mut std::io::stdout()).map_err(|e| e.to_string())?;
        let app = axum::Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .with_state(jobs);
        // Nagle's algorithm off: a reply's head and body can go out in separate writes, and the
        // body would then wait for the client's delayed acknowledgement of the head.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app)
            .await
            .map_err(|e| format!("the server stopped: {e}"))
    })
}

/// `workers` threads, each loading its own copy of the models, then answering the jobs sent to
/// the returned channel until it closes. Fails, with the load's message, if a copy does not load.
fn start_model_threads(shared: &Arc<Shared>, workers: usize) -> Result<mpsc::Sender<Job>, String> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    let (ready, started) = mpsc::channel();
    for _ in 0..workers {
        let (shared, queue, ready) = (Arc::clone(shared), Arc::clone(&queue), ready.clone());
        std::thread::spawn(move || {
            let mut loaded = match shared.run.load() {
                Ok(loaded) => {
                    let _ = ready.send(Ok(()));
                    loaded
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            loop {
                // The lock is held only to take the next job, not while answering it.
                let next = queue.lock().expect("no thread panics holding it").recv();
                let Ok(job) = next else { return };
                let reply = api::respond(&shared, &mut loaded, &job.method, &job.url, &job.body);
                // A client that went away is no reason to stop serving the others.
                let _ = job.reply.send(reply);
            }
        });
    }
    drop(ready);
    for result in started.iter().take(workers) {
        result?;
    }
    Ok(jobs)
}

/// Every request: its body read by axum (at most [`BODY_LIMIT`] bytes), then answered by a model
/// thread ([`api::respond`]).
async fn handle(
    State(jobs): State<mpsc::Sender<Job>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // A body declared too long is refused on its declaration, before a byte of it is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT as u64) {
        return into_response(Reply::too_large());
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return into_response(Reply::too_large())
        }
        Err(rejection) => {
            return into_response(Reply::error(
                400,
                format!("cannot read the body: {}", rejection.body_text()),
            ))
        }
    };
    let (reply, answer) = oneshot::channel();
    let job = Job {
        method: method.to_string(),
        url: uri.to_string(),
        body: body.to_vec(),
        reply,
    };
    let sent = jobs.send(job);
    match (sent, answer.await) {
        (Ok(()), Ok(reply)) => into_response(reply),
        _ => into_response(Reply::error(503, "the model threads have stopped")),
    }
}

fn into_response(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).expect("api.rs uses valid status codes");
    let mut response = (status, reply.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(reply.content_type),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(allow) = reply.allow {
        headers.insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    response
}
