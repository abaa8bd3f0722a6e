//! `autoplay-botpress setup`: creates the layout's tables with their columns, or finds them.

use autoplay_botpress::schema;
use serde_json::Value;

use crate::botpress::{BotpressConfig, TableRequest, TablesClient};
use crate::layout::{Layout, Tables};

/// The get-or-create calls for the layout's tables.
pub fn table_requests(tables: &Tables) -> Vec<TableRequest> {
    match tables.layout {
        Layout::Sessions => vec![TableRequest {
            name: tables.sessions.clone(),
            columns: schema::SESSION_COLUMNS,
            key_column: Some(schema::SUMMARY_KEY_COLUMN),
            factor: tables.row_factor,
        }],
        Layout::Events => vec![
            TableRequest {
                name: tables.events.clone(),
                columns: schema::EVENT_COLUMNS,
                key_column: Some(schema::EVENT_KEY_COLUMN),
                factor: 1,
            },
            TableRequest {
                name: tables.summary.clone(),
                columns: schema::SUMMARY_COLUMNS,
                key_column: Some(schema::SUMMARY_KEY_COLUMN),
                factor: 1,
            },
        ],
    }
}

/// Prints the requests `setup` would send, with the token left out.
pub fn print_dry_run(config: &BotpressConfig, tables: &Tables, client: &TablesClient) {
    println!(
        "dry run: nothing is sent. setup would make these calls (bot {}):",
        config.bot_id
    );
    for request in table_requests(tables) {
        println!(
            "\nPOST {}\nAuthorization: Bearer <BOTPRESS_TOKEN>\nx-bot-id: {}\n{}",
            client.url(&request.path()),
            config.bot_id,
            serde_json::to_string_pretty(&request.body()).unwrap_or_default()
        );
    }
}

/// Gets or creates the layout's tables and reports each. An existing table that lacks only
/// columns or the key column (as one an older version created, keyed on `session_id`) is
/// upgraded in place with `updateTable`: the missing columns are added, its own columns kept,
/// and the key column set. Any other difference is reported, not altered: its data is the user's.
pub async fn run(client: &TablesClient, tables: &Tables) -> anyhow::Result<()> {
    let mut incomplete = 0;
    for request in table_requests(tables) {
        let (created, table) = client.get_or_create_table(&request).await?;
        if created {
            println!("created {} with its columns", request.name);
            continue;
        }
        let problems = differences(&request, &table);
        if problems.is_empty() {
            println!("found {} (already set up; left unchanged)", request.name);
            continue;
        }
        if let Some(upgrade) = upgrade(&request, &table) {
            let upgraded = client
                .update_table(&request.name, &upgrade)
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "{} is keyed or shaped as an older version made it ({}), and Botpress \
                         refused to upgrade it: {e}. Add the missing columns and make {} the key \
                         column in Botpress Studio (Tables), or delete the table and run setup \
                         again",
                        request.name,
                        problems.join("; "),
                        request.key_column.unwrap_or("id"),
                    )
                })?;
            let left = differences(&request, &upgraded);
            if left.is_empty() {
                println!("upgraded {}: {}", request.name, problems.join("; "));
                continue;
            }
            println!(
                "upgraded {}, but it still differs: {}",
                request.name,
                left.join("; ")
            );
        } else {
            println!(
                "found {}, but it differs: {}",
                request.name,
                problems.join("; ")
            );
        }
        incomplete += 1;
    }
    if incomplete > 0 {
        anyhow::bail!(
            "{incomplete} existing table(s) differ from what autoplay-botpress writes; add the \
             missing columns in Botpress Studio (Tables), or delete the table and run setup again"
        );
    }
    Ok(())
}

/// The `updateTable` body that brings `table` up to `request` when it only lacks columns or the
/// key column: its own columns kept, ours added. `None` when anything else differs (a column of
/// another type, a smaller row factor, a frozen table), which only the user may change.
fn upgrade(request: &TableRequest, table: &Value) -> Option<Value> {
    if table["frozen"].as_bool() == Some(true) {
        return None;
    }
    let factor = table["factor"].as_u64().unwrap_or(1);
    if factor < u64::from(request.factor) {
        return None;
    }
    let mut properties = table["schema"]["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let wanted = schema::table_schema(request.columns);
    for (name, column) in wanted["properties"].as_object()? {
        match properties.get(name) {
            Some(found) if found["type"] != column["type"] => return None,
            Some(_) => {}
            None => {
                properties.insert(name.clone(), column.clone());
            }
        }
    }
    let mut body = serde_json::json!({ "schema": { "type": "object", "properties": properties } });
    if let Some(key) = request.key_column {
        body["keyColumn"] = key.into();
    }
    Some(body)
}

/// What an existing table lacks compared to `request`.
fn differences(request: &TableRequest, table: &Value) -> Vec<String> {
    let columns = &table["schema"]["properties"];
    let mut problems: Vec<String> = request
        .columns
        .iter()
        .filter_map(|column| {
            let (name, expected) = (column.name, column.kind.json_type());
            match columns[name]["type"].as_str() {
                None => Some(format!("missing column {name} ({expected})")),
                Some(found) if found != expected => {
                    Some(format!("column {name} is {found}, expected {expected}"))
                }
                Some(_) => None,
            }
        })
        .collect();
    if let Some(key) = request.key_column {
        if table["keyColumn"].as_str() != Some(key) {
            problems.push(format!(
                "key column is not {key} (upserts still work, more slowly)"
            ));
        }
    }
    let factor = table["factor"].as_u64().unwrap_or(1);
    if factor < u64::from(request.factor) {
        problems.push(format!(
            "row factor is {factor}, not {} (raise it in Botpress, or drop --row-factor): rows \
             are sized for the larger factor",
            request.factor
        ));
    }
    problems
}
