//! `mnist_kd serve` over real sockets on 127.0.0.1, on a run trained on the fixture: what
//! `/models` says, that `/predict` answers with each model's logits, that every kind of bad request
//! gets a 4xx and a JSON error while the server keeps serving, that 200 requests from 8 clients
//! at once all get the right answers, and that the disagreement view lists exactly the images on
//! which the two students differ.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::{predict_body, request, test_images, trained_run, Server};

/// Each model's id and logits, as a reply lists them.
type Answer = Vec<(String, Vec<f32>)>;

fn logits_of(reply: &Value) -> Answer {
    reply["models"]
        .as_array()
        .expect("a list of models")
        .iter()
        .map(|m| {
            let id = m["id"].as_str().expect("an id").to_string();
            let logits = m["logits"]
                .as_array()
                .expect("logits")
                .iter()
                .map(|z| z.as_f64().expect("a number") as f32)
                .collect();
            (id, logits)
        })
        .collect()
}

fn argmax(values: &[f32]) -> usize {
    (0..values.len())
        .max_by(|&a, &b| values[a].total_cmp(&values[b]))
        .expect("not empty")
}

#[test]
fn models_lists_the_run_teacher_first_with_the_accuracies_it_measured() {
    let run = trained_run();
    let server = Server::start(run);
    let reply = request(server.address, "GET", "/models", b"");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let models = reply.json();
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    let listed = models["models"].as_array().unwrap();
    let roles: Vec<&str> = listed.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["teacher", "alone", "distilled"]);
    assert_eq!(
        listed[0]["test_accuracy"], results["teacher"]["run"]["test_accuracy"],
        "the teacher's accuracy is the run's"
    );
    for m in &listed[1..] {
        let run = results["students"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["role"] == m["role"] && s["seed"] == 0)
            .expect("the seed-0 run that wrote the checkpoint");
        assert_eq!(m["test_accuracy"], run["test_accuracy"], "{m}");
        assert_eq!(m["spec"], "mlp:32,32");
    }
    assert_eq!(models["classes"].as_array().unwrap().len(), 10);
    assert_eq!(models["test_images"], 1000);
    assert_eq!(models["distilled_at_temperature"], 2.0);
    // The page itself, and its two files.
    for (path, kind) in [
        ("/", "text/html"),
        ("/app.js", "text/javascript"),
        ("/style.css", "text/css"),
    ] {
        let page = request(server.address, "GET", path, b"");
        assert_eq!(page.status, 200, "{path}");
        assert!(page.headers.contains(kind), "{path}: {}", page.headers);
    }
}

#[test]
fn predict_gives_every_model_or_the_ones_named() {
    let server = Server::start(trained_run());
    let (images, labels) = test_images();
    let all = request(
        server.address,
        "POST",
        "/predict",
        &predict_body(&images[0]),
    );
    assert_eq!(all.status, 200, "{}", all.body);
    let all = logits_of(&all.json());
    assert_eq!(all.len(), 3);
    assert!(all
        .iter()
        .all(|(_, z)| z.len() == 10 && z.iter().all(|v| v.is_finite())));
    // The fixture's first test image is a 7 that this teacher reads.
    assert_eq!(argmax(&all[0].1), labels[0]);

    let body = serde_json::json!({ "pixels": images[0], "models": ["teacher"] });
    let one = request(
        server.address,
        "POST",
        "/predict",
        body.to_string().as_bytes(),
    );
    assert_eq!(one.status, 200, "{}", one.body);
    let one = logits_of(&one.json());
    assert_eq!(one, all[..1], "the teacher alone answers as among all");
}

#[test]
fn bad_requests_get_a_4xx_and_a_json_error_and_the_server_keeps_serving() {
    let mut server = Server::start(trained_run());
    let (images, _) = test_images();
    let good = predict_body(&images[3]);
    let expected = request(server.address, "POST", "/predict", &good);
    assert_eq!(expected.status, 200);
    let expected = logits_of(&expected.json());

    let short: Vec<f32> = images[0][..783].to_vec();
    let mut long = images[0].clone();
    long.push(0.0);
    let with_nan = String::from_utf8(predict_body(&images[0]))
        .unwrap()
        .replacen("0.0", "NaN", 1);
    let with_null = String::from_utf8(predict_body(&images[0]))
        .unwrap()
        .replacen("0.0", "null", 1);
    let out_of_range = String::from_utf8(predict_body(&images[0]))
        .unwrap()
        .replacen("0.0", "255", 1);
    let unknown_model =
        serde_json::json!({ "pixels": images[0], "models": ["teacher", "nobody"] }).to_string();
    // Over the 64 KiB limit, and written as valid JSON so that only its size is wrong.
    let huge = format!("{{\"pixels\": [{}]}}", vec!["0.5"; 40_000].join(","));
    let twice =
        serde_json::json!({ "pixels": images[0], "models": ["teacher", "teacher"] }).to_string();
    let no_models = serde_json::json!({ "pixels": images[0], "models": [] }).to_string();
    type Case<'a> = (&'a str, &'a str, Vec<u8>, u16, &'a str);
    let post =
        |body: String, status, says| -> Case { ("POST", "/predict", body.into(), status, says) };
    let get = |path, status, says| -> Case { ("GET", path, Vec::new(), status, says) };
    let text = |body: Vec<u8>| String::from_utf8(body).unwrap();
    let cases: Vec<Case> = vec![
        post(text(predict_body(&short)), 400, "found 783"),
        post(text(predict_body(&long)), 400, "found 785"),
        post(with_nan, 400, "not"),
        post(with_null, 400, "found null"),
        post(out_of_range, 400, "found 255"),
        post("{\"pixel\": []}".into(), 400, "\"pixels\""),
        post("[1, 2]".into(), 400, "\"pixels\""),
        post(unknown_model, 404, "\"nobody\""),
        post(twice, 400, "each model once"),
        post(no_models, 400, "empty list"),
        post(huge, 413, "at most 65536 bytes"),
        get("/predict", 405, "takes POST"),
        ("POST", "/models", Vec::new(), 405, "takes GET"),
        get("/nowhere", 404, "no such path"),
        get("/disagreements", 400, "pair"),
        get("/disagreements?pair=7", 404, "below 1"),
        get("/disagreements?pair=0&limit=0", 400, "limit"),
        get("/disagreements?pair=x", 400, "whole number"),
    ];
    for (method, path, body, status, says) in cases {
        let reply = request(server.address, method, path, &body);
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        let error = reply.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: no \"error\" in {}", reply.body))
            .to_string();
        assert!(
            error.contains(says),
            "{method} {path}: {error:?} lacks {says:?}"
        );
        // Still serving, and the same answer as before.
        let again = request(server.address, "POST", "/predict", &good);
        assert_eq!(again.status, 200, "after {method} {path}");
        assert_eq!(logits_of(&again.json()), expected, "after {method} {path}");
    }
    assert!(server.alive());
}

#[test]
fn two_hundred_requests_from_eight_clients_at_once_all_get_the_right_answers() {
    let server = Server::start(trained_run());
    let (images, _) = test_images();
    let images = &images[..200];
    // One at a time first: the answer each image must get.
    let expected: Vec<_> = images
        .iter()
        .map(|image| {
            let reply = request(server.address, "POST", "/predict", &predict_body(image));
            assert_eq!(reply.status, 200);
            logits_of(&reply.json())
        })
        .collect();
    // Then 8 clients, each sending its 25 images as fast as the server answers.
    let address = server.address;
    let answers: Vec<Vec<(usize, Answer)>> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..8)
            .map(|client| {
                scope.spawn(move || {
                    (client..images.len())
                        .step_by(8)
                        .map(|i| {
                            let reply =
                                request(address, "POST", "/predict", &predict_body(&images[i]));
                            assert_eq!(reply.status, 200, "image {i}: {}", reply.body);
                            (i, logits_of(&reply.json()))
                        })
                        .collect()
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let answered: usize = answers.iter().map(Vec::len).sum();
    assert_eq!(answered, 200);
    for (i, logits) in answers.into_iter().flatten() {
        assert_eq!(logits, expected[i], "image {i}");
    }
}

#[test]
fn the_disagreements_are_exactly_the_test_images_the_two_students_answer_differently() {
    let server = Server::start(trained_run());
    let (images, labels) = test_images();
    let models = request(server.address, "GET", "/models", b"").json();
    let total = models["pairs"][0]["disagreements"].as_u64().unwrap() as usize;
    // Every test image through /predict: where do the two students differ?
    let differ: Vec<usize> = (0..images.len())
        .filter(|&i| {
            let reply = request(
                server.address,
                "POST",
                "/predict",
                &predict_body(&images[i]),
            );
            let logits = logits_of(&reply.json());
            argmax(&logits[1].1) != argmax(&logits[2].1)
        })
        .collect();
    assert_eq!(differ.len(), total);
    assert!(total > 0, "a quick run's two students disagree somewhere");
    // Page by page.
    let mut listed = Vec::new();
    while listed.len() < total {
        let path = format!("/disagreements?pair=0&offset={}&limit=7", listed.len());
        let page = request(server.address, "GET", &path, b"").json();
        assert_eq!(page["total"].as_u64().unwrap() as usize, total);
        let items = page["images"].as_array().unwrap();
        assert!(!items.is_empty());
        for item in items {
            let i = item["index"].as_u64().unwrap() as usize;
            assert_eq!(item["label"].as_u64().unwrap() as usize, labels[i]);
            let pixels: Vec<f32> = item["pixels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_u64().unwrap() as f32 / 255.0)
                .collect();
            assert_eq!(pixels, images[i], "image {i}'s pixels");
            listed.push(i);
        }
    }
    assert_eq!(listed, differ);
}

/// A request that declares a body far over the limit (and sends a few bytes of it) is refused at
/// once with a 413, without the server reading or making room for what was declared.
#[test]
fn a_huge_declared_body_is_refused_and_the_server_keeps_serving() {
    let mut server = Server::start(trained_run());
    let mut stream = TcpStream::connect(server.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /predict HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: 99999999999999\r\n\r\n{{}}",
        server.address
    );
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.shutdown(Shutdown::Write);
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply:?}");
    assert!(reply.contains("at most 65536 bytes"), "{reply:?}");
    let (images, _) = test_images();
    let after = request(
        server.address,
        "POST",
        "/predict",
        &predict_body(&images[0]),
    );
    assert_eq!(after.status, 200);
    assert!(server.alive());
}

/// Clients that declare a body and then stall do not hold up the others: more of them than there
/// are model threads, and a good request still gets its answer.
#[test]
fn stalled_uploads_do_not_hold_up_other_clients() {
    let server = Server::start(trained_run());
    let stalled: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut stream = TcpStream::connect(server.address).unwrap();
            let head = format!(
                "POST /predict HTTP/1.1\r\nHost: {}\r\nContent-Length: 2000\r\n\r\n{{\"pix",
                server.address
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream
        })
        .collect();
    let (images, _) = test_images();
    let reply = request(
        server.address,
        "POST",
        "/predict",
        &predict_body(&images[0]),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    drop(stalled);
}

/// A run folder that is missing, or that holds no teacher, stops `serve` before it listens, with
/// one line saying what was expected.
#[test]
fn a_missing_or_wrong_run_folder_is_one_clear_line() {
    let empty = tempfile::tempdir().unwrap();
    let missing = empty.path().join("no-such-run");
    for (run, says) in [
        (missing.as_path(), "cannot read the run folder"),
        (empty.path(), "found no teacher.safetensors"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_mnist_kd"))
            .args(["serve", "--port", "0", "--run"])
            .arg(run)
            .output()
            .unwrap();
        assert!(!o.status.success());
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(says),
            "{stderr}"
        );
        assert!(o.stdout.is_empty(), "it never listened");
    }
}
