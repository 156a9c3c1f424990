// Load a base with dtable-sdk (SeaTable's JavaScript SDK, unmodified) and print what it sees
// as JSON: node dtable_sdk.js <server> <APIToken>
// It runs the SDK's read path: init (app-access-token), loadDTable (the whole-base document),
// the related users and departments, then getTables/getColumns/getViews/getViewRows/forEachRow.
// syncWithServer is not called: it opens the socket.io connection (live updates).
"use strict";
const DTable = require("dtable-sdk").default;

const [server, APIToken] = process.argv.slice(2);

async function main() {
  const dtable = new DTable();
  await dtable.init({ server, APIToken });
  if (!dtable.dtableStore) throw new Error("init failed (app-access-token)");
  await dtable.dtableStore.loadDTable();
  await dtable.initRelatedUsers();
  await dtable.initDepartments();
  const tables = dtable.getTables().map((table) => {
    const views = dtable.getViews(table);
    const rows = dtable.getViewRows(views[0], table);
    const each = [];
    dtable.forEachRow(table.name, views[0].name, (row) => each.push(row._id));
    return {
      name: table.name,
      columns: dtable.getColumns(table).map((c) => ({ name: c.name, type: c.type, key: c.key })),
      views: views.map((v) => v.name),
      row_count: table.rows.length,
      view_rows: rows.map((r) => {
        const byName = {};
        for (const c of table.columns) if (r[c.key] !== undefined) byName[c.name] = r[c.key];
        return { _id: r._id, cells: byName };
      }),
      for_each_ids: each,
    };
  });
  return {
    uuid: dtable.config.dtableUuid,
    app_name: dtable.config.appName,
    version: dtable.dtableStore.value.version,
    tables,
    related_users: dtable.getRelatedUsers().map((u) => ({ email: u.email, name: u.name })),
    departments: dtable.dtableStore.departments,
  };
}

// Exit once stdout is flushed (a pipe is written asynchronously; exiting early truncates it).
function finish(value, code) {
  process.stdout.write(JSON.stringify(value) + "\n", () => process.exit(code));
}

main().then(
  (out) => finish(out, 0),
  (err) => finish({ error: String((err && err.stack) || err) }, 1),
);
