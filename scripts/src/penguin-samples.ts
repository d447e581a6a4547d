// Penguins for the demo: real rows of the bundled Palmer data (datasets/penguins.csv), so that
// a batch is plausible and a comparison has a known answer.

/** One penguin as the penguin models take it. */
export interface Penguin {
  island: string;
  bill_length_mm: number;
  bill_depth_mm: number;
  flipper_length_mm: number;
  body_mass_g: number;
  sex: string | null;
}

/** A Gentoo from Biscoe (a row of the data set). */
export const GENTOO: Penguin = { island: 'Biscoe', bill_length_mm: 47.5, bill_depth_mm: 15.0, flipper_length_mm: 218, body_mass_g: 4950, sex: 'female' };

const row = (species: string, island: string, bl: number, bd: number, fl: number, mass: number, sex: string) => ({
  island,
  bill_length_mm: bl,
  bill_depth_mm: bd,
  flipper_length_mm: fl,
  body_mass_g: mass,
  sex,
  label: species,
});

/** Fourteen complete rows of the data set, labeled by species name. */
export const PENGUIN_BATCH = [
  row('Adelie', 'Torgersen', 40.3, 18, 195, 3250, 'female'),
  row('Adelie', 'Dream', 39.5, 17.8, 188, 3300, 'female'),
  row('Adelie', 'Biscoe', 36.5, 16.6, 181, 2850, 'female'),
  row('Adelie', 'Torgersen', 35.1, 19.4, 193, 4200, 'male'),
  row('Adelie', 'Biscoe', 38.1, 17, 181, 3175, 'female'),
  row('Adelie', 'Dream', 37.5, 18.5, 199, 4475, 'male'),
  row('Gentoo', 'Biscoe', 45.4, 14.6, 211, 4800, 'female'),
  row('Gentoo', 'Biscoe', 45.1, 14.5, 207, 5050, 'female'),
  row('Gentoo', 'Biscoe', 45.5, 15, 220, 5000, 'male'),
  row('Gentoo', 'Biscoe', 50, 15.9, 224, 5350, 'male'),
  row('Gentoo', 'Biscoe', 48.1, 15.1, 209, 5500, 'male'),
  row('Chinstrap', 'Dream', 47, 17.3, 185, 3700, 'female'),
  row('Chinstrap', 'Dream', 52, 20.7, 210, 4800, 'male'),
  row('Chinstrap', 'Dream', 45.7, 17, 195, 3650, 'female'),
];
