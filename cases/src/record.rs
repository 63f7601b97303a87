//! Recording what real hosts answered (`vitals plugin test --record`), as answers a
//! case can replay.

use std::time::Duration;

use crate::model::{HttpAnswer, NetFailure, Step, TcpAnswer, Timings};
use crate::replay::HttpReply;

/// Most answers and steps one recording keeps; a plugin that loops must not fill memory.
const MAX_RECORDED: usize = 1000;

/// The answers of one run, as the real hosts gave them.
#[derive(Debug, Default)]
pub struct Recorder {
    http: Vec<HttpAnswer>,
    tcp: Vec<TcpAnswer>,
}

impl Recorder {
    /// Records one HTTP exchange.
    pub fn http(&mut self, method: &str, url: &str, result: Result<&HttpReply, &NetFailure>) {
        if self.http.len() >= MAX_RECORDED {
            return;
        }
        let mut answer =
            HttpAnswer { method: Some(method.to_string()), url: Some(url.to_string()), ..HttpAnswer::default() };
        match result {
            Ok(reply) => {
                answer.status = Some(reply.status);
                answer.headers = reply.headers.iter().cloned().collect();
                answer.set_body(&reply.body);
                answer.timings = reply.timings;
                answer.remote_addr = Some(reply.remote_addr.clone());
                answer.final_url = (reply.final_url != url).then(|| reply.final_url.clone());
                answer.redirects = reply.redirects;
            }
            Err(failure) => answer.error = Some(failure.clone()),
        }
        self.http.push(answer);
    }

    /// Records a TCP connect; the connection's number for the later calls, when it opened.
    pub fn connect(&mut self, host: &str, port: u16, result: Result<(&str, Timings), &NetFailure>) -> Option<usize> {
        if self.tcp.len() >= MAX_RECORDED {
            return None;
        }
        let mut answer = TcpAnswer { host: Some(host.to_string()), port: Some(port), ..TcpAnswer::default() };
        let opened = match result {
            Ok((remote, timings)) => {
                answer.remote_addr = Some(remote.to_string());
                answer.timings = timings;
                true
            }
            Err(failure) => {
                answer.error = Some(failure.clone());
                false
            }
        };
        self.tcp.push(answer);
        opened.then(|| self.tcp.len() - 1)
    }

    fn step(&mut self, id: Option<usize>, step: Step) {
        let Some(script) = id.and_then(|id| self.tcp.get_mut(id)).map(|a| &mut a.script) else {
            return;
        };
        // Consecutive chunks in one direction read better, and replay the same.
        let room = script.len() < MAX_RECORDED;
        match (script.last_mut(), step) {
            (Some(Step::Receive(bytes)), Step::Receive(more)) | (Some(Step::Send(bytes)), Step::Send(more)) => {
                bytes.extend_from_slice(&more)
            }
            (_, step) if room => script.push(step),
            _ => {}
        }
    }

    /// Records bytes the plugin sent on connection `id` (or the failure).
    pub fn send(&mut self, id: Option<usize>, data: &[u8], result: Result<(), NetFailure>) {
        match result {
            Ok(()) => self.step(id, Step::Send(data.to_vec())),
            Err(failure) => self.step(id, Step::Error(failure)),
        }
    }

    /// Records what connection `id` received (an empty read, the peer closing, is the end
    /// of the script and is not written).
    pub fn receive(&mut self, id: Option<usize>, result: Result<&[u8], NetFailure>) {
        match result {
            Ok([]) => {}
            Ok(data) => self.step(id, Step::Receive(data.to_vec())),
            Err(failure) => self.step(id, Step::Error(failure)),
        }
    }

    /// Records a TLS upgrade on connection `id`.
    pub fn tls(&mut self, id: Option<usize>, result: Result<Duration, NetFailure>) {
        match result {
            Ok(took) => self.step(id, Step::Tls(took)),
            Err(failure) => self.step(id, Step::Error(failure)),
        }
    }

    /// What was recorded: the HTTP answers and the TCP answers, in call order.
    pub fn into_answers(self) -> (Vec<HttpAnswer>, Vec<TcpAnswer>) {
        (self.http, self.tcp)
    }
}

/// `text` (a cases file) with the answers of the case named `case` replaced by `http`
/// and `tcp`, everything else (comments, order, layout) kept.
#[cfg(feature = "edit")]
pub fn write_answers(text: &str, case: &str, http: &[HttpAnswer], tcp: &[TcpAnswer]) -> Result<String, String> {
    use toml_edit::{DocumentMut, Item};

    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| e.to_string())?;
    let cases = doc.get_mut("case").and_then(Item::as_array_of_tables_mut).ok_or("the file has no [[case]]")?;
    let table = cases
        .iter_mut()
        .find(|t| t.get("name").and_then(Item::as_str) == Some(case))
        .ok_or_else(|| format!("no case named `{case}`"))?;
    for (key, item) in [("http", answers_item(http)?), ("tcp", answers_item(tcp)?)] {
        match item {
            Some(item) => {
                table.insert(key, item);
            }
            None => {
                table.remove(key);
            }
        }
    }
    Ok(doc.to_string())
}

/// Answers as an array of tables whose nested tables (timings, headers, script steps)
/// are inline, so each answer stays one block.
#[cfg(feature = "edit")]
fn answers_item<T: serde::Serialize>(answers: &[T]) -> Result<Option<toml_edit::Item>, String> {
    use toml_edit::{ArrayOfTables, Item, Table};

    if answers.is_empty() {
        return Ok(None);
    }
    let mut array = ArrayOfTables::new();
    for answer in answers {
        let doc = toml_edit::ser::to_document(answer).map_err(|e| e.to_string())?;
        let mut table: Table = doc.as_table().clone();
        let keys: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
        for key in keys {
            if let Some(item) = table.get_mut(&key)
                && (item.is_table() || item.is_array_of_tables())
            {
                let taken = std::mem::take(item);
                *item = match taken.into_value() {
                    Ok(value) => Item::Value(value),
                    Err(original) => original,
                };
            }
        }
        for (_, item) in table.iter_mut() {
            one_line_strings(item);
        }
        table.set_implicit(false);
        array.push(table);
    }
    Ok(Some(Item::ArrayOfTables(array)))
}

/// Strings written as one-line basic strings with escapes (`"220 ready\r\n"`), not as
/// multi-line literals: a recorded exchange reads as what went over the wire.
#[cfg(feature = "edit")]
fn one_line_strings(item: &mut toml_edit::Item) {
    use toml_edit::{Item, Value};
    fn value(v: &mut Value) {
        match v {
            // JSON's string escapes are TOML's basic-string escapes.
            Value::String(text) if text.value().contains(['\n', '\r']) => {
                if let Some(basic) = serde_json::to_string(text.value()).ok().and_then(|e| e.parse::<Value>().ok()) {
                    *v = basic;
                }
            }
            Value::Array(array) => array.iter_mut().for_each(value),
            Value::InlineTable(table) => table.iter_mut().for_each(|(_, v)| value(v)),
            _ => {}
        }
    }
    match item {
        Item::Value(v) => value(v),
        Item::Table(t) => t.iter_mut().for_each(|(_, i)| one_line_strings(i)),
        _ => {}
    }
}

#[cfg(all(test, feature = "edit"))]
mod tests {
    use super::*;
    use crate::{CaseFile, HttpCall, Replay};

    #[test]
    fn recorded_answers_replay_and_keep_the_file() {
        let text = "# my cases\n[[case]]\nname = \"a\" # first\ntarget = \"http://a.test/\"\n\
                    expect = { status = \"ok\" }\n\n[[case]]\nname = \"b\"\ntarget = \"x:1\"\nexpect = { status = \"ok\" }\n";
        let mut rec = Recorder::default();
        let reply = HttpReply {
            status: 204,
            headers: vec![("server".into(), "t".into())],
            body: b"hi".to_vec(),
            body_size: 2,
            truncated: false,
            final_url: "http://a.test/".into(),
            redirects: 0,
            remote_addr: "127.0.0.1:80".into(),
            timings: Timings { total: Some(Duration::from_micros(1234)), ..Timings::default() },
        };
        rec.http("GET", "http://a.test/", Ok(&reply));
        let id = rec.connect("x", 1, Ok(("127.0.0.1:1", Timings::default())));
        rec.receive(id, Ok(b"22"));
        rec.receive(id, Ok(b"0\r\n"));
        rec.send(id, b"QUIT\r\n", Ok(()));
        rec.receive(id, Ok(b""));
        let (http, tcp) = rec.into_answers();
        let written = write_answers(text, "a", &http, &tcp).unwrap();
        assert!(written.starts_with("# my cases\n[[case]]\nname = \"a\" # first\n"), "{written}");
        assert!(written.contains("timings = { total = \"1234us\" }"), "{written}");
        let file = CaseFile::parse(&written).unwrap();
        assert_eq!(file.cases.len(), 2);
        let mut replay = Replay::new(&file.cases[0]);
        let again = replay.http(HttpCall { method: "GET", url: "http://a.test/", max_body: 100 }).unwrap();
        assert_eq!(again, reply);
        let c = replay.connect("x", 1).unwrap();
        assert_eq!(replay.receive(c.id, 100).unwrap(), b"220\r\n");
        replay.send(c.id, b"QUIT\r\n").unwrap();
        assert!(replay.finish().is_empty());
        assert!(write_answers(text, "zzz", &http, &tcp).unwrap_err().contains("no case named"));
    }
}
