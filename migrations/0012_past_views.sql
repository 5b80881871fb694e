-- Views as of a past cut of the log. Each projection table that keeps history has a view of the
-- same name in the schema past, showing the versions of its rows that held at the cut: the
-- transaction-local settings tracker.cut_tx and tracker.cut_pos, the (transaction_id, position)
-- pair of the cut's event. A reader sets them and puts past ahead of public on its search_path,
-- and the live views' own queries then answer as of the cut.
CREATE SCHEMA past;

CREATE OR REPLACE FUNCTION projection_publish(p_schema text, p_tables text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text;
    cols text;
    cut constant text := '(current_setting(''tracker.cut_tx'')::bigint, '
                         'current_setting(''tracker.cut_pos'')::bigint)';
BEGIN
    FOREACH t IN ARRAY p_tables LOOP
        EXECUTE format('DROP VIEW IF EXISTS public.%I', t);
        EXECUTE format('CREATE VIEW public.%I AS SELECT * FROM %I.%I', t, p_schema, t);
        EXECUTE format('DROP VIEW IF EXISTS past.%I', t);
        SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO cols
        FROM pg_attribute a
        WHERE a.attrelid = format('%I.%I', p_schema, t)::regclass
          AND a.attnum > 0 AND NOT a.attisdropped;
        IF to_regclass(format('%I.%I', p_schema, t || '_history')) IS NOT NULL THEN
            -- A version holds from its opening event (included) to its closing one (excluded).
            EXECUTE format(
                'CREATE VIEW past.%I AS SELECT %s FROM %I.%I '
                'WHERE (opened_tx, opened_pos) <= %s '
                'AND (closed_tx IS NULL OR (closed_tx, closed_pos) > %s)',
                t, cols, p_schema, t || '_history', cut, cut);
        ELSIF EXISTS (
            SELECT FROM pg_attribute a
            WHERE a.attrelid = format('%I.%I', p_schema, t)::regclass AND a.attname = 'opened_tx'
        ) THEN
            -- Append-only rows: those made by the cut.
            EXECUTE format(
                'CREATE VIEW past.%I AS SELECT %s FROM %I.%I WHERE (opened_tx, opened_pos) <= %s',
                t, cols, p_schema, t, cut);
        END IF;
    END LOOP;
END
$$;
