import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * Synthetic cleaned Arvato rows for tests and the export benchmark: the 79 kept columns with random values
 * inside their real domains (FACTS.md §6-§8), DOUBLE for numeric-looking codes, VARCHAR for the four text
 * columns, a few percent NULL per column. Not realistic in correlations, only in shape and domains.
 */
export interface SyntheticColumn {
  name: string;
  text?: boolean;
  values?: readonly (string | number)[];
  range?: [number, number];
}

const range = (name: string, lo: number, hi: number): SyntheticColumn => ({ name, range: [lo, hi] });
const list = (name: string, values: readonly (string | number)[], text = false): SyntheticColumn => ({ name, values, text });

const CAMEO_DEU = [
  '1A', '1B', '1C', '1D', '1E', '2A', '2B', '2C', '2D', '3A', '3B', '3C', '3D', '4A', '4B', '4C', '4D', '4E', '5A', '5B', '5C',
  '5D', '5E', '5F', '6A', '6B', '6C', '6D', '6E', '6F', '7A', '7B', '7C', '7D', '7E', '8A', '8B', '8C', '8D', '9A', '9B', '9C',
  '9D', '9E',
];
const CAMEO_INTL = ['12', '13', '14', '15', '22', '23', '24', '25', '31', '32', '33', '34', '35', '41', '43', '44', '45', '51', '52', '54', '55'];
const SEMIO = ['SOZ', 'FAM', 'REL', 'MAT', 'VERT', 'LUST', 'ERL', 'KULT', 'RAT', 'KRIT', 'DOM', 'KAEM', 'PFLICHT', 'TRADV'];
const FINANZ = ['MINIMALIST', 'SPARER', 'VORSORGER', 'ANLEGER', 'UNAUFFAELLIGER', 'HAUSBAUER'];

/** The 79 columns kept after dropping AGER_TYP, GEBURTSJAHR, TITEL_KZ, ALTER_HH, KK_KUNDENTYP, KBA05_BAUMAX (summary order). */
export const ARVATO_KEPT_COLUMNS: readonly SyntheticColumn[] = [
  range('ALTERSKATEGORIE_GROB', 1, 4),
  range('ANREDE_KZ', 1, 2),
  range('CJT_GESAMTTYP', 1, 6),
  ...FINANZ.map((name) => range(`FINANZ_${name}`, 1, 5)),
  range('FINANZTYP', 1, 6),
  range('GFK_URLAUBERTYP', 1, 12),
  range('GREEN_AVANTGARDE', 0, 1),
  range('HEALTH_TYP', 1, 3),
  range('LP_LEBENSPHASE_FEIN', 1, 40),
  range('LP_LEBENSPHASE_GROB', 1, 12),
  range('LP_FAMILIE_FEIN', 1, 11),
  range('LP_FAMILIE_GROB', 1, 5),
  range('LP_STATUS_FEIN', 1, 10),
  range('LP_STATUS_GROB', 1, 5),
  range('NATIONALITAET_KZ', 1, 3),
  range('PRAEGENDE_JUGENDJAHRE', 1, 15),
  range('RETOURTYP_BK_S', 1, 5),
  ...SEMIO.map((name) => range(`SEMIO_${name}`, 1, 7)),
  range('SHOPPER_TYP', 0, 3),
  range('SOHO_KZ', 0, 1),
  range('VERS_TYP', 1, 2),
  range('ZABEOTYP', 1, 6),
  range('ANZ_PERSONEN', 0, 45),
  range('ANZ_TITEL', 0, 6),
  range('HH_EINKOMMEN_SCORE', 1, 6),
  range('W_KEIT_KIND_HH', 1, 6),
  range('WOHNDAUER_2008', 1, 9),
  range('ANZ_HAUSHALTE_AKTIV', 1, 595),
  range('ANZ_HH_TITEL', 0, 23),
  list('GEBAEUDETYP', [1, 2, 3, 4, 5, 6, 8]),
  range('KONSUMNAEHE', 1, 7),
  range('MIN_GEBAEUDEJAHR', 1985, 2016),
  list('OST_WEST_KZ', ['O', 'W'], true),
  list('WOHNLAGE', [0, 1, 2, 3, 4, 5, 7, 8]),
  list('CAMEO_DEUG_2015', ['1', '2', '3', '4', '5', '6', '7', '8', '9'], true),
  list('CAMEO_DEU_2015', CAMEO_DEU, true),
  list('CAMEO_INTL_2015', CAMEO_INTL, true),
  range('KBA05_ANTG1', 0, 4),
  range('KBA05_ANTG2', 0, 4),
  range('KBA05_ANTG3', 0, 3),
  range('KBA05_ANTG4', 0, 2),
  range('KBA05_GBZ', 1, 5),
  range('BALLRAUM', 1, 7),
  range('EWDICHTE', 1, 6),
  range('INNENSTADT', 1, 8),
  range('GEBAEUDETYP_RASTER', 1, 5),
  range('KKK', 1, 4),
  range('MOBI_REGIO', 1, 6),
  range('ONLINE_AFFINITAET', 0, 5),
  range('REGIOTYP', 1, 7),
  range('KBA13_ANZAHL_PKW', 0, 2300),
  range('PLZ8_ANTG1', 0, 4),
  range('PLZ8_ANTG2', 0, 4),
  range('PLZ8_ANTG3', 0, 3),
  range('PLZ8_ANTG4', 0, 2),
  range('PLZ8_BAUMAX', 1, 5),
  range('PLZ8_HHZ', 1, 5),
  range('PLZ8_GBZ', 1, 5),
  range('ARBEIT', 1, 5),
  range('ORTSGR_KLS9', 1, 9),
  range('RELAT_AB', 1, 5),
];

function literal(value: string | number): string {
  return typeof value === 'number' ? String(value) : `'${value.replace(/'/g, "''")}'`;
}

function columnSql(column: SyntheticColumn, missingShare: number): string {
  let value: string;
  if (column.values) {
    const items = column.values.map(literal).join(', ');
    value = `[${items}][1 + CAST(floor(random() * ${column.values.length}) AS INTEGER)]`;
  } else {
    const [lo, hi] = column.range ?? [0, 1];
    value = `${lo} + floor(random() * ${hi - lo + 1})`;
  }
  const typed = column.text ? `CAST(${value} AS VARCHAR)` : `CAST(${value} AS DOUBLE)`;
  return `CASE WHEN random() < ${missingShare} THEN NULL ELSE ${typed} END AS "${column.name}"`;
}

/** Writes `rows` synthetic clean rows (column `row` = 0..rows-1 then the 79 columns) to a Parquet file. */
export async function writeSyntheticArvatoParquet(
  conn: DuckDBConnection,
  path: string,
  rows: number,
  options: { missingShare?: number; seed?: number } = {},
): Promise<string[]> {
  await conn.run(`SELECT setseed(${options.seed ?? 0.42})`);
  const columns = ARVATO_KEPT_COLUMNS.map((column) => columnSql(column, options.missingShare ?? 0.04));
  await conn.run(
    `COPY (SELECT CAST(range AS BIGINT) AS "row", ${columns.join(', ')} FROM range(${rows})) TO '${path.replace(/'/g, "''")}' (FORMAT parquet)`,
  );
  return ARVATO_KEPT_COLUMNS.map((column) => column.name);
}
