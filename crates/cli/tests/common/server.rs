//! A real `vaxtrace serve` child for the CLI tests that need HTTP, with the users and synthetic
//! citizens it serves.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Stdio};

use serde_json::{Value, json};

use super::{command, load_citizens, p};

pub const PASSWORD: &str = "mật khẩu đủ dài 2021";

/// A `vaxtrace serve` child on a free loopback port, killed when dropped.
pub struct Server {
    child: std::sync::Mutex<Child>,
    pub url: String,
    http: reqwest::Client,
}

impl Server {
    pub fn start(database_url: &str, extra: &[&str], outbox: &Path) -> Self {
        let mut args = vec![
            "serve",
            "--database-url",
            database_url,
            "--addr",
            "127.0.0.1:0",
            "--sms-outbox",
            p(outbox),
        ];
        args.extend_from_slice(extra);
        let mut child = command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("vaxtrace listening on ")
            .unwrap_or_else(|| panic!("no banner, got {line:?}"))
            .to_owned();
        Self {
            child: std::sync::Mutex::new(child),
            url,
            http: reqwest::Client::new(),
        }
    }

    pub async fn login(&self, username: &str) -> String {
        let res = self
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), 200, "login of {username}");
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// SIGKILL, as a crash or an out-of-memory kill; waits until the process is gone.
    pub fn kill(&self) {
        let mut child = self.child.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }

    /// POST with a token; an error when the server does not answer.
    pub async fn try_post(
        &self,
        path: &str,
        token: &str,
        body: &Value,
    ) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = self.http.post(format!("{}{path}", self.url)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let res = self.get(path, token).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.unwrap()
    }

    pub async fn verify(&self, token: &str, person: &Person) -> Value {
        let body =
            json!({"personal_id": person.id, "full_name": person.name, "birth_date": person.birth});
        let res = self
            .post("/api/v1/identity/verify", Some(token), &body)
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub birth: String,
    pub sex: String,
    pub commune: String,
}

/// Generates and imports `count` synthetic citizens of `province`; returns them.
pub fn load(url: &str, dir: &Path, province: &str, count: &str) -> Vec<Person> {
    let file = load_citizens(url, dir, province, count);
    csv::Reader::from_path(&file)
        .unwrap()
        .records()
        .map(|r| {
            let r = r.unwrap();
            Person {
                id: r[0].to_owned(),
                name: r[1].to_owned(),
                birth: r[2].to_owned(),
                sex: r[3].to_owned(),
                commune: r[4].to_owned(),
            }
        })
        .collect()
}

pub fn add_user(url: &str, username: &str, role: &str, jurisdiction: &str) {
    let mut child = command(&[
        "user",
        "add",
        "--database-url",
        url,
        "--username",
        username,
        "--role",
        role,
        "--jurisdiction",
        jurisdiction,
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(child.wait().unwrap().success(), "user add {username}");
}

pub fn shot(person: &Person, record_id: &str) -> Value {
    json!({
        "source": "site-app", "source_record_id": record_id, "personal_id": person.id,
        "full_name": person.name, "birth_date": person.birth, "sex": person.sex,
        "commune_code": person.commune, "vaccine_code": "EU/1/21/1529", "dose_number": "1",
        "administered_at": "2021-08-02T09:00:00+07:00",
        "site_code": format!("KG-TYT-{}", person.commune), "lot": "ABV123"
    })
}
