//! The Tables API stand-in: tables with real rows, get-or-create, create, upsert on a key column,
//! find (Mongo-like filters, ordering, paging), delete; row size limited to 4 KB × factor like
//! Botpress. Every call is recorded with its time, for the tests and the benchmark.

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::unix_now;

/// A stored table.
#[derive(Debug, Clone)]
pub struct FakeTable {
    pub schema: Value,
    pub key_column: Option<String>,
    pub factor: u64,
    pub rows: Vec<Map<String, Value>>,
    next_id: u64,
    /// Row positions by key column and value, built when an upsert first uses that column.
    index: HashMap<String, HashMap<String, usize>>,
}

impl FakeTable {
    /// Rows whose `column` equals `value`.
    pub fn rows_where<'a>(
        &'a self,
        column: &'a str,
        value: &'a str,
    ) -> impl Iterator<Item = &'a Map<String, Value>> + 'a {
        self.rows
            .iter()
            .filter(move |r| r.get(column).and_then(Value::as_str) == Some(value))
    }
}

/// One recorded call.
#[derive(Debug, Clone)]
pub struct TableCall {
    /// `table`, `update`, `create`, `upsert`, `find` or `delete`.
    pub op: String,
    pub table: String,
    pub body: Value,
    /// Unix seconds at arrival.
    pub at: f64,
    pub status: u16,
}

/// The Tables API's state.
#[derive(Debug, Default)]
pub struct TablesFake {
    pub tables: BTreeMap<String, FakeTable>,
    pub calls: Vec<TableCall>,
    /// Keep request bodies in `calls` (the benchmark reads upserted rows from them).
    pub keep_bodies: bool,
    /// The plan's row quota (rows × factor over every table): a call that would add rows past
    /// it is refused whole with `403 QuotaExceeded`, as Botpress does; updates still pass.
    pub row_quota: Option<u64>,
    /// Session ids whose rows an upsert reports in `errors` (and does not store).
    pub row_errors: HashSet<String>,
    /// Warnings every upsert answer carries.
    pub warnings: Vec<String>,
    /// Deletes by filter answer with a background job (and `deletedRows: 0`).
    pub delete_in_background: bool,
}

fn error(status: StatusCode, kind: &str, message: String) -> (StatusCode, Value) {
    let body = json!({"id": "err_fake", "code": status.as_u16(), "type": kind, "message": message});
    (status, body)
}

impl TablesFake {
    /// Handles one call: (status, JSON answer).
    pub fn handle(&mut self, op: &str, table: &str, body: &Value) -> (StatusCode, Value) {
        let (status, answer) = self.apply(op, table, body);
        self.calls.push(TableCall {
            op: op.to_owned(),
            table: table.to_owned(),
            body: if self.keep_bodies {
                body.clone()
            } else {
                Value::Null
            },
            at: unix_now(),
            status: status.as_u16(),
        });
        (status, answer)
    }

    /// Applies a call without recording it (what the bot itself does, e.g. StoreEventsData).
    pub fn apply(&mut self, op: &str, name: &str, body: &Value) -> (StatusCode, Value) {
        if op == "table" {
            return self.get_or_create(name, body);
        }
        let Some(table) = self.tables.get_mut(name) else {
            return error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!("Table \"{name}\" doesn't exist"),
            );
        };
        let now = autoplay_botpress::time::iso_from_ms((unix_now() * 1000.0) as i64);
        match op {
            "create" | "upsert" => {
                let Some(rows) = body["rows"].as_array() else {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "InvalidPayload",
                        "rows must be an array".into(),
                    );
                };
                if rows.is_empty() || rows.len() > 1_000 {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "InvalidPayload",
                        format!("rows must hold 1 to 1000 rows, got {}", rows.len()),
                    );
                }
                let limit = 4_096 * table.factor as usize;
                for (i, row) in rows.iter().enumerate() {
                    let size = row.to_string().len();
                    if size > limit {
                        return error(
                            StatusCode::BAD_REQUEST,
                            "InvalidPayload",
                            format!("rows[{i}] is {size} bytes; this table stores at most {limit}"),
                        );
                    }
                }
                let key =
                    (op == "upsert").then(|| body["keyColumn"].as_str().unwrap_or("id").to_owned());
                if let Some(quota) = self.row_quota {
                    let used: u64 = self
                        .tables
                        .values()
                        .map(|t| t.rows.len() as u64 * t.factor)
                        .sum();
                    let table = &self.tables[name];
                    let known: HashSet<String> = key
                        .as_ref()
                        .map(|key| {
                            table
                                .rows
                                .iter()
                                .filter_map(|r| Some(r.get(key)?.to_string()))
                                .collect()
                        })
                        .unwrap_or_default();
                    let added = rows
                        .iter()
                        .filter(|row| {
                            key.as_ref()
                                .and_then(|key| row.get(key))
                                .is_none_or(|v| !known.contains(&v.to_string()))
                        })
                        .count() as u64;
                    if added > 0 && used + added * table.factor > quota {
                        return error(
                            StatusCode::FORBIDDEN,
                            "QuotaExceeded",
                            format!("Table rows quota exceeded: {used} of {quota} rows used"),
                        );
                    }
                }
                let table = self.tables.get_mut(name).expect("checked above");
                let (mut inserted, mut updated, mut errors) = (Vec::new(), Vec::new(), Vec::new());
                for (i, row) in rows.iter().enumerate() {
                    let Some(fields) = row.as_object() else {
                        return error(
                            StatusCode::BAD_REQUEST,
                            "InvalidPayload",
                            "a row must be an object".into(),
                        );
                    };
                    let refused = fields
                        .get("session_id")
                        .and_then(Value::as_str)
                        .filter(|value| self.row_errors.contains(*value));
                    if let Some(value) = refused {
                        errors.push(format!("rows[{i}] ({value}): invalid row"));
                        continue;
                    }
                    let existing = key.as_ref().and_then(|key| {
                        let wanted = fields.get(key)?.to_string();
                        let rows = &table.rows;
                        let index = table.index.entry(key.clone()).or_insert_with(|| {
                            rows.iter()
                                .enumerate()
                                .filter_map(|(i, r)| Some((r.get(key)?.to_string(), i)))
                                .collect()
                        });
                        index.get(&wanted).copied()
                    });
                    match existing {
                        Some(at) => {
                            let stored = &mut table.rows[at];
                            for (column, value) in fields {
                                if column != "id" {
                                    stored.insert(column.clone(), value.clone());
                                }
                            }
                            stored.insert("updatedAt".into(), now.clone().into());
                            updated.push(Value::Object(stored.clone()));
                        }
                        None => {
                            table.next_id += 1;
                            let mut stored = fields.clone();
                            for (column, index) in &mut table.index {
                                if let Some(value) = stored.get(column) {
                                    index.insert(value.to_string(), table.rows.len());
                                }
                            }
                            stored.insert("id".into(), table.next_id.into());
                            stored.insert("createdAt".into(), now.clone().into());
                            stored.insert("updatedAt".into(), now.clone().into());
                            inserted.push(Value::Object(stored.clone()));
                            table.rows.push(stored);
                        }
                    }
                }
                if op == "create" {
                    (StatusCode::OK, json!({"rows": inserted}))
                } else {
                    (
                        StatusCode::OK,
                        json!({"inserted": inserted, "updated": updated,
                            "errors": errors, "warnings": self.warnings}),
                    )
                }
            }
            "find" => {
                let filter = &body["filter"];
                let mut found: Vec<&Map<String, Value>> =
                    table.rows.iter().filter(|r| matches(r, filter)).collect();
                let order = body["orderBy"].as_str().unwrap_or("id");
                found.sort_by(|a, b| compare(a.get(order), b.get(order)));
                if body["orderDirection"] == "desc" {
                    found.reverse();
                }
                let offset = body["offset"].as_u64().unwrap_or(0) as usize;
                let limit = body["limit"].as_u64().unwrap_or(100) as usize;
                let has_more = found.len() > offset + limit;
                let rows: Vec<Value> = found
                    .into_iter()
                    .skip(offset)
                    .take(limit)
                    .map(|r| Value::Object(r.clone()))
                    .collect();
                (
                    StatusCode::OK,
                    json!({"rows": rows, "hasMore": has_more, "offset": offset, "limit": limit}),
                )
            }
            "update" => update(name, table, body),
            "delete" => {
                table.index.clear();
                let before = table.rows.len();
                if body["deleteAllRows"] == true {
                    table.rows.clear();
                } else if let Some(ids) = body["ids"].as_array() {
                    table.rows.retain(|r| !ids.contains(&r["id"]));
                } else {
                    let filter = &body["filter"];
                    table.rows.retain(|r| !matches(r, filter));
                    if self.delete_in_background {
                        let job = json!({"id": "job_fake", "status": "pending"});
                        return (StatusCode::OK, json!({"deletedRows": 0, "job": job}));
                    }
                }
                (
                    StatusCode::OK,
                    json!({"deletedRows": before - table.rows.len()}),
                )
            }
            _ => error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!("no operation {op}"),
            ),
        }
    }

    fn get_or_create(&mut self, name: &str, body: &Value) -> (StatusCode, Value) {
        let created = !self.tables.contains_key(name);
        let table = self
            .tables
            .entry(name.to_owned())
            .or_insert_with(|| FakeTable {
                schema: body["schema"].clone(),
                key_column: body["keyColumn"].as_str().map(str::to_owned),
                factor: body["factor"].as_u64().unwrap_or(1),
                rows: Vec::new(),
                next_id: 0,
                index: HashMap::new(),
            });
        let described = describe(name, table);
        (
            StatusCode::OK,
            json!({"table": described, "created": created, "rows": table.rows.len()}),
        )
    }
}

/// A table as Botpress describes it.
fn describe(name: &str, table: &FakeTable) -> Value {
    json!({
        "id": format!("t-{name}"), "name": name, "schema": table.schema,
        "keyColumn": table.key_column, "factor": table.factor,
    })
}

/// `updateTable`: a new schema and/or key column. Like Botpress's unique key index, a key column
/// whose present values repeat is refused.
fn update(name: &str, table: &mut FakeTable, body: &Value) -> (StatusCode, Value) {
    if let Some(key) = body["keyColumn"].as_str() {
        let mut values = std::collections::HashSet::new();
        let repeated = table
            .rows
            .iter()
            .filter_map(|r| r.get(key).filter(|v| !v.is_null()))
            .any(|v| !values.insert(v.to_string()));
        if repeated {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidPayload",
                format!("column {key} holds repeated values; it cannot be the key column"),
            );
        }
        table.key_column = Some(key.to_owned());
        table.index.clear();
    }
    if body["schema"].is_object() {
        table.schema = body["schema"].clone();
    }
    (
        StatusCode::OK,
        json!({"table": describe(name, table), "staleColumns": []}),
    )
}

/// Whether a row matches a Mongo-like filter (`$eq`, `$ne`, `$gt(e)`, `$lt(e)`, `$in`, `$nin`,
/// `$and`, `$or`; a plain value means equality).
pub fn matches(row: &Map<String, Value>, filter: &Value) -> bool {
    let Some(conditions) = filter.as_object() else {
        return true;
    };
    conditions
        .iter()
        .all(|(key, condition)| match key.as_str() {
            "$and" => condition
                .as_array()
                .is_some_and(|all| all.iter().all(|f| matches(row, f))),
            "$or" => condition
                .as_array()
                .is_some_and(|any| any.iter().any(|f| matches(row, f))),
            column => {
                let value = row.get(column);
                match condition.as_object() {
                    Some(ops) if ops.keys().all(|k| k.starts_with('$')) => {
                        ops.iter().all(|(op, operand)| {
                            let ordering = || compare(value, Some(operand));
                            match op.as_str() {
                                "$eq" => value == Some(operand),
                                "$ne" => value != Some(operand),
                                "$gt" => value.is_some() && ordering().is_gt(),
                                "$gte" => value.is_some() && ordering().is_ge(),
                                "$lt" => value.is_some() && ordering().is_lt(),
                                "$lte" => value.is_some() && ordering().is_le(),
                                "$in" => operand
                                    .as_array()
                                    .is_some_and(|list| value.is_some_and(|v| list.contains(v))),
                                "$nin" => operand
                                    .as_array()
                                    .is_some_and(|list| value.is_none_or(|v| !list.contains(v))),
                                _ => false,
                            }
                        })
                    }
                    _ => value == Some(condition),
                }
            }
        })
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        _ => std::cmp::Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upserts_on_the_key_column_and_finds_with_filters() {
        let mut t = TablesFake::default();
        t.handle("table", "T", &json!({"schema": {}, "keyColumn": "k"}));
        let rows = json!({"rows": [{"k": "a", "n": 1}, {"k": "b", "n": 2}], "keyColumn": "k"});
        t.handle("upsert", "T", &rows);
        let again = json!({"rows": [{"k": "a", "n": 5}], "keyColumn": "k"});
        let (_, answer) = t.handle("upsert", "T", &again);
        assert_eq!(answer["updated"].as_array().unwrap().len(), 1);
        assert_eq!(t.tables["T"].rows.len(), 2);
        let (_, found) = t.handle(
            "find",
            "T",
            &json!({"filter": {"n": {"$gte": 2}}, "orderBy": "n", "orderDirection": "desc"}),
        );
        let ns: Vec<_> = found["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["n"].clone())
            .collect();
        assert_eq!(ns, [json!(5), json!(2)]);
        let (_, deleted) = t.handle("delete", "T", &json!({"filter": {"k": {"$in": ["a"]}}}));
        assert_eq!(deleted["deletedRows"], 1);
        let (status, _) = t.handle("upsert", "Missing", &rows);
        assert_eq!(status, StatusCode::NOT_FOUND);
        let big = json!({"rows": [{"k": "x".repeat(5_000)}], "keyColumn": "k"});
        assert_eq!(t.handle("upsert", "T", &big).0, StatusCode::BAD_REQUEST);
    }
}
