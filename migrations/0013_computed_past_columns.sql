-- Past views may compute a column their history leaves out. A column of a published table that
-- its <table>_history lacks is read in the past view as <schema>.<table>_<column>(history row):
-- a function the projection defines beside its history. The commitments' stored item (each
-- version's whole row as JSON text) is one: computing it for the few rows a past read lists
-- costs less than storing it in every version.
CREATE OR REPLACE FUNCTION projection_publish(p_schema text, p_tables text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text;
    cols text;
    history regclass;
    cut constant text := '(current_setting(''tracker.cut_tx'')::bigint, '
                         'current_setting(''tracker.cut_pos'')::bigint)';
BEGIN
    FOREACH t IN ARRAY p_tables LOOP
        EXECUTE format('DROP VIEW IF EXISTS public.%I', t);
        EXECUTE format('CREATE VIEW public.%I AS SELECT * FROM %I.%I', t, p_schema, t);
        EXECUTE format('DROP VIEW IF EXISTS past.%I', t);
        history := to_regclass(format('%I.%I', p_schema, t || '_history'));
        SELECT string_agg(
                   CASE WHEN history IS NULL OR EXISTS (
                            SELECT FROM pg_attribute k
                            WHERE k.attrelid = history AND k.attname = a.attname
                              AND NOT k.attisdropped)
                        THEN format('h.%I', a.attname)
                        ELSE format('%I.%I(h) AS %I', p_schema, t || '_' || a.attname, a.attname)
                   END, ', ' ORDER BY a.attnum) INTO cols
        FROM pg_attribute a
        WHERE a.attrelid = format('%I.%I', p_schema, t)::regclass
          AND a.attnum > 0 AND NOT a.attisdropped;
        IF history IS NOT NULL THEN
            -- A version holds from its opening event (included) to its closing one (excluded).
            EXECUTE format(
                'CREATE VIEW past.%I AS SELECT %s FROM %s h '
                'WHERE (h.opened_tx, h.opened_pos) <= %s '
                'AND (h.closed_tx IS NULL OR (h.closed_tx, h.closed_pos) > %s)',
                t, cols, history, cut, cut);
        ELSIF EXISTS (
            SELECT FROM pg_attribute a
            WHERE a.attrelid = format('%I.%I', p_schema, t)::regclass AND a.attname = 'opened_tx'
        ) THEN
            -- Append-only rows: those made by the cut.
            EXECUTE format(
                'CREATE VIEW past.%I AS SELECT %s FROM %I.%I h '
                'WHERE (h.opened_tx, h.opened_pos) <= %s',
                t, cols, p_schema, t, cut);
        END IF;
    END LOOP;
END
$$;
