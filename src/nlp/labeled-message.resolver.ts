/** Mutation.labelMessages and Query.labeledMessageIntents (admins): INTENT training data. Thin. */
import { Arg, Authorized, Ctx, Field, InputType, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { Rule } from '../auth/auth-checker';
import type { Context } from '../graphql/context';

@InputType()
export class LabeledMessageInput {
  @Field({ description: 'The customer message, 1–2000 characters.' }) text!: string;
  @Field({ description: 'Its intent label (1–100 characters: letters, digits, spaces and _ . : / -).' }) intent!: string;
}

@ObjectType()
export class LabelMessagesResult {
  @Field(() => Int, { description: 'Texts stored for the first time.' }) inserted!: number;
  @Field(() => Int, { description: 'Stored texts whose intent changed.' }) relabeled!: number;
  @Field(() => Int, { description: 'Texts already stored with the same intent (retries), and repeats within the call.' })
  unchanged!: number;
}

@ObjectType()
export class IntentCount {
  @Field() intent!: string;
  @Field(() => Int) count!: number;
}

@Resolver()
export class LabeledMessageResolver {
  @Authorized(Rule.ADMIN)
  @Mutation(() => LabelMessagesResult, {
    description: 'Store up to 5,000 intent-labelled customer messages (the data of INTENT fine-tuning), all or nothing; idempotent per text.',
  })
  async labelMessages(@Ctx() ctx: Context, @Arg('messages', () => [LabeledMessageInput]) messages: LabeledMessageInput[]) {
    return ctx.services.labeledMessages.label(messages);
  }

  @Authorized(Rule.ADMIN)
  @Query(() => [IntentCount], { description: 'Labelled messages per intent, most frequent first.' })
  async labeledMessageIntents(@Ctx() ctx: Context) {
    return ctx.services.labeledMessages.intentCounts();
  }
}
