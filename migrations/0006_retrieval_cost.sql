ALTER TABLE "retrieval_attempts" ADD COLUMN "cost" numeric(78, 0);--> statement-breakpoint
ALTER TABLE "retrieval_attempts" ADD COLUMN "payment_channel" text;--> statement-breakpoint
ALTER TABLE "retrievals" ADD COLUMN "cost" numeric(78, 0);