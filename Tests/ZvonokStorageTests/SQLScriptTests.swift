import Testing

@testable import ZvonokStorage

@Suite struct SQLScriptTests {
    @Test func splitsAtTopLevelSemicolonsOnly() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (t text DEFAULT 'x;y');
            /* block; comment */ CREATE TABLE "b;c" (id int);
            CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
            CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 2; END $body$;
            SELECT 'it''s; fine'
            """
        let statements = SQLScript.statements(in: script)
        #expect(statements.count == 5)
        #expect(statements[0] == "CREATE TABLE a (t text DEFAULT 'x;y')")
        #expect(statements[1] == "CREATE TABLE \"b;c\" (id int)")
        #expect(statements[2].hasSuffix("$$ SELECT 1; $$"))
        #expect(statements[3].hasSuffix("$body$ BEGIN RETURN 2; END $body$"))
        #expect(statements[4] == "SELECT 'it''s; fine'")
    }

    @Test func positionalParametersAreNotDollarQuotes() {
        #expect(SQLScript.statements(in: "PREPARE p AS SELECT $1; SELECT 2").count == 2)
    }
}
