/**
 * The fixed "world" of the demo dataset: cities of different sizes, categories with price
 * levels, regional category preferences, and review phrasing. Pure data.
 */
export interface City {
  readonly code: string;
  readonly name: string;
  readonly latitude: number;
  readonly longitude: number;
  /** Share of users living there. */
  readonly weight: number;
  /** Typical distance of homes from the centre, km. */
  readonly spreadKm: number;
  /** Local time offset from UTC, hours. */
  readonly utcOffset: number;
  /** Category preference multipliers (category code → factor; default 1). */
  readonly preferences: Readonly<Record<string, number>>;
}

export interface CategoryDef {
  readonly code: string;
  readonly name: string;
  readonly medianPrice: number;
  readonly nouns: readonly string[];
  /** Category whose products are often viewed next (complements). */
  readonly complement: string;
}

export const CITIES: readonly City[] = [
  { code: 'sao-paulo', name: 'São Paulo', latitude: -23.5505, longitude: -46.6333, weight: 0.34, spreadKm: 14, utcOffset: -3,
    preferences: { electronics: 1.6, fashion: 1.2, books: 1.1 } },
  { code: 'rio-de-janeiro', name: 'Rio de Janeiro', latitude: -22.9068, longitude: -43.1729, weight: 0.22, spreadKm: 11, utcOffset: -3,
    preferences: { sports: 1.9, beauty: 1.6, fashion: 1.3 } },
  { code: 'belo-horizonte', name: 'Belo Horizonte', latitude: -19.9167, longitude: -43.9345, weight: 0.13, spreadKm: 8, utcOffset: -3,
    preferences: { grocery: 1.8, home: 1.3 } },
  { code: 'brasilia', name: 'Brasília', latitude: -15.7939, longitude: -47.8828, weight: 0.11, spreadKm: 10, utcOffset: -3,
    preferences: { books: 2.0, electronics: 1.3 } },
  { code: 'curitiba', name: 'Curitiba', latitude: -25.4284, longitude: -49.2733, weight: 0.11, spreadKm: 7, utcOffset: -3,
    preferences: { garden: 2.2, home: 1.5, pets: 1.4 } },
  { code: 'recife', name: 'Recife', latitude: -8.0476, longitude: -34.877, weight: 0.09, spreadKm: 6, utcOffset: -3,
    preferences: { fashion: 1.8, beauty: 1.4, toys: 1.3 } },
];

export const CATEGORIES: readonly CategoryDef[] = [
  { code: 'electronics', name: 'Electronics', medianPrice: 320, complement: 'home',
    nouns: ['headphones', 'phone charger', 'smartwatch', 'bluetooth speaker', 'tablet', 'keyboard', 'webcam', 'power bank'] },
  { code: 'fashion', name: 'Fashion', medianPrice: 90, complement: 'beauty',
    nouns: ['sneakers', 'denim jacket', 'summer dress', 'backpack', 'sunglasses', 'linen shirt', 'handbag', 'sandals'] },
  { code: 'home', name: 'Home', medianPrice: 120, complement: 'garden',
    nouns: ['coffee maker', 'bed sheets', 'desk lamp', 'cookware set', 'throw pillow', 'blender', 'towel set', 'wall clock'] },
  { code: 'beauty', name: 'Beauty', medianPrice: 55, complement: 'health',
    nouns: ['face serum', 'perfume', 'shampoo', 'sunscreen', 'lipstick', 'hair dryer', 'moisturizer', 'nail kit'] },
  { code: 'sports', name: 'Sports', medianPrice: 140, complement: 'health',
    nouns: ['running shoes', 'yoga mat', 'football', 'surfboard leash', 'dumbbells', 'cycling helmet', 'swim goggles', 'tennis racket'] },
  { code: 'toys', name: 'Toys', medianPrice: 70, complement: 'books',
    nouns: ['building blocks', 'puzzle', 'plush bear', 'toy car', 'board game', 'doll house', 'kite', 'science kit'] },
  { code: 'books', name: 'Books', medianPrice: 45, complement: 'toys',
    nouns: ['novel', 'cookbook', 'travel guide', 'comic book', 'biography', 'poetry collection', 'atlas', 'notebook'] },
  { code: 'grocery', name: 'Grocery', medianPrice: 25, complement: 'home',
    nouns: ['coffee beans', 'olive oil', 'chocolate', 'green tea', 'granola', 'spice set', 'honey', 'pasta'] },
  { code: 'garden', name: 'Garden', medianPrice: 85, complement: 'home',
    nouns: ['plant pot', 'garden hose', 'pruning shears', 'seed kit', 'lawn chair', 'watering can', 'fertilizer', 'bird feeder'] },
  { code: 'automotive', name: 'Automotive', medianPrice: 150, complement: 'electronics',
    nouns: ['car charger', 'seat cover', 'dash cam', 'tire inflator', 'car wax', 'phone mount', 'floor mats', 'jump starter'] },
  { code: 'pets', name: 'Pets', medianPrice: 60, complement: 'garden',
    nouns: ['dog bed', 'cat tree', 'pet food', 'leash', 'aquarium filter', 'chew toy', 'litter box', 'pet brush'] },
  { code: 'health', name: 'Health', medianPrice: 50, complement: 'sports',
    nouns: ['vitamins', 'thermometer', 'massage gun', 'first aid kit', 'protein powder', 'blood pressure monitor', 'face masks', 'heating pad'] },
];

export const ADJECTIVES = ['Classic', 'Pro', 'Eco', 'Compact', 'Premium', 'Everyday', 'Ultra', 'Smart', 'Urban', 'Natural', 'Deluxe', 'Lite'];
export const BRANDS = ['Aurora', 'Bravo', 'Cedro', 'Delta', 'Estrela', 'Fenix', 'Guará', 'Horizonte', 'Ipê', 'Jade'];

export const REVIEW_PHRASES: Readonly<Record<'positive' | 'neutral' | 'negative', readonly string[]>> = {
  positive: [
    'Excellent {noun}, exactly as described.', 'Great quality and fast delivery, very happy with this {noun}.',
    'Love it! The {noun} works perfectly.', 'Best {noun} I have bought, totally worth the price.',
    'Arrived early and the {noun} is beautiful.', 'Very good product, I would buy this {noun} again.',
    'Amazing value, the {noun} exceeded my expectations.', 'Solid build and easy to use. Recommended.',
  ],
  neutral: [
    'The {noun} is okay, nothing special.', 'Average {noun}; does the job but feels a bit cheap.',
    'Delivery took a while but the {noun} is fine.', 'It is what it is. Decent {noun} for the price.',
    'Not bad, not great. The {noun} works as expected.',
  ],
  negative: [
    'Terrible {noun}, stopped working after two days.', 'Poor quality, the {noun} arrived damaged.',
    'Very disappointed, the {noun} looks nothing like the photos.', 'Waste of money. Returning this {noun}.',
    'Delivery was late and the {noun} is broken.', 'Awful experience, the {noun} is cheap plastic.',
    'Do not buy this {noun}, it is a scam.',
  ],
};

/** Relative activity by local hour of day (0–23): night trough, lunch and evening peaks. */
export const HOURLY_PROFILE: readonly number[] = [
  0.35, 0.2, 0.12, 0.08, 0.07, 0.1, 0.25, 0.5, 0.75, 0.85, 0.9, 1.0,
  1.25, 1.2, 0.95, 0.9, 0.9, 0.95, 1.1, 1.35, 1.6, 1.7, 1.4, 0.8,
];

/** Relative activity by day of week, Sunday = 0. */
export const WEEKDAY_PROFILE: readonly number[] = [1.3, 0.85, 0.9, 0.95, 1.0, 1.1, 1.35];
