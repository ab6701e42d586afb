/** Per-request DataLoaders for the catalog; each batch is one query returning results in key order. */
import type DataLoader from 'dataloader';
import { byKeyLoader, perArgument } from '../graphql/loader-utils';
import type { CategoryEntity } from './category.entity';
import type { ProductEntity } from './product.entity';
import type { ProductService } from './product.service';
import type { ReviewEntity } from './review.entity';
import type { RatingSummaryData, ReviewService } from './review.service';
import type { UserEntity } from './user.entity';
import type { UserService } from './user.service';

export interface CatalogLoaders {
  readonly user: DataLoader<string, UserEntity | null>;
  readonly product: DataLoader<string, ProductEntity | null>;
  readonly category: DataLoader<string, CategoryEntity | null>;
  readonly ratingSummary: DataLoader<string, RatingSummaryData>;
  readonly productReviews: (limit: number) => DataLoader<string, ReviewEntity[]>;
  readonly userReviews: (limit: number) => DataLoader<string, ReviewEntity[]>;
}

export function createCatalogLoaders(s: {
  users: UserService;
  products: ProductService;
  reviews: ReviewService;
}): CatalogLoaders {
  return {
    user: byKeyLoader((ids) => s.users.byIds(ids)),
    product: byKeyLoader((ids) => s.products.byIds(ids)),
    category: byKeyLoader((ids) => s.products.categoriesByIds(ids)),
    ratingSummary: byKeyLoader((ids) => s.reviews.ratingSummaries(ids)),
    productReviews: perArgument((limit: number) => byKeyLoader((ids) => s.reviews.recentByProducts(ids, limit))),
    userReviews: perArgument((limit: number) => byKeyLoader((ids) => s.reviews.recentByUsers(ids, limit))),
  };
}
